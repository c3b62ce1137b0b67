// Package downstream is the data plane's HTTP server: Gluon's own HTTP/1.1
// connection loop (request heads, bodies with their timeouts, responses,
// pipelining) and net/http's HTTP/2 server for h2c, serving one
// listener's http.Handler. It knows nothing of routes or config.
package downstream

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gluon-gateway/gluon/dataplane/internal/guard"
	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

// Server serves one listener's client connections. HTTP/1.1 runs
// on Gluon's own connection loop (downstreamConn): net/http's server spends
// a goroutine, a socket read and two deadline changes per request on
// noticing clients that hang up, more than the rest of a proxied request
// costs. Connections that open with the HTTP/2 preface (h2c with prior
// knowledge, which Envoy's AUTO codec accepts) go to net/http's HTTP/2
// server, handed over through an in-memory listener.
type Server struct {
	handler http.Handler
	log     *slog.Logger
	guard   guard.Guard
	h2      *http.Server
	h2conns *handoffListener

	shutting atomic.Bool
	mu       sync.Mutex
	ln       net.Listener
	conns    map[*downstreamConn]struct{}
}

// IdleTimeout closes a connection with no request for this long.
const IdleTimeout = 5 * time.Minute

// NewServer returns a server of h; guard ends a connection that panicked.
func NewServer(h http.Handler, guard guard.Guard) *Server {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	log := guard.Log
	return &Server{
		handler: h,
		log:     log,
		guard:   guard,
		h2: &http.Server{
			Handler:     h,
			Protocols:   &protocols,
			IdleTimeout: IdleTimeout,
			ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		},
		h2conns: newHandoffListener(),
		conns:   map[*downstreamConn]struct{}{},
	}
}

// Serve accepts connections on ln until the server is shut down or closed,
// then returns http.ErrServerClosed. Other accept errors (out of file
// descriptors, say) are waited out with a backoff, as net/http does.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	go func() { _ = s.h2.Serve(s.h2conns) }()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.shutting.Load() {
				return http.ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c := newDownstreamConn(s, h1.NewRawSocket(conn))
		if !s.track(c) {
			_ = conn.Close()
			continue
		}
		go c.serve()
	}
}

// ServeConn serves one connection accepted elsewhere (a TLS handshake
// done) as HTTP/1.1 with handler h, until it closes; Shutdown drains it
// with the rest.
func (s *Server) ServeConn(conn net.Conn, h http.Handler) {
	c := newDownstreamConn(s, h1.NewRawSocket(conn))
	c.handler = h
	if !s.track(c) {
		_ = conn.Close()
		return
	}
	c.serve()
}

// Active is the number of connections served as HTTP/1.1 now.
func (s *Server) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// track adds c to the live connections, unless the server is shutting down.
func (s *Server) track(c *downstreamConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutting.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *downstreamConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// handOff gives an h2c connection to the HTTP/2 server.
func (s *Server) handOff(conn net.Conn) {
	if !s.h2conns.push(conn) {
		_ = conn.Close()
	}
}

// Shutdown stops accepting, closes idle connections, lets in-flight requests
// finish (their responses say Connection: close) and waits until every
// connection is gone or ctx ends, as http.Server.Shutdown does.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutting.Store(true)
	s.closeListener()
	h2err := make(chan error, 1)
	go func() { h2err <- s.h2.Shutdown(ctx) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if s.closeIdle() == 0 {
			return <-h2err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listener and every connection at once.
func (s *Server) Close() error {
	s.shutting.Store(true)
	s.closeListener()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.conn.Close()
	}
	s.mu.Unlock()
	return s.h2.Close()
}

func (s *Server) closeListener() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		_ = s.ln.Close()
	}
	s.ln = nil
	_ = s.h2conns.Close()
}

// closeIdle wakes every connection waiting for its next request, which then
// sees the shutdown and closes, and returns how many connections are left.
func (s *Server) closeIdle() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.idle.Load() {
			_ = c.conn.SetReadDeadline(aLongTimeAgo)
		}
	}
	return len(s.conns)
}

// aLongTimeAgo is a deadline that has passed: setting it wakes a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// handoffListener is a net.Listener whose connections are pushed to it.
type handoffListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newHandoffListener() *handoffListener {
	return &handoffListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *handoffListener) push(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.closed:
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return handoffAddr{} }

type handoffAddr struct{}

func (handoffAddr) Network() string { return "handoff" }
func (handoffAddr) String() string  { return "handoff" }
