package dataplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/gluon-gateway/gluon/dataplane/internal/downstream"
	"github.com/gluon-gateway/gluon/dataplane/internal/guard"
)

const (
	// drainTimeout bounds how long a removed listener waits for in-flight requests.
	drainTimeout = 30 * time.Second
	// defaultStreamIdleTimeout is Envoy's HTTP connection manager default: a
	// stream with no activity for stream_idle_timeout is ended;
	// request_timeout (off by default) bounds receiving the whole request.
	defaultStreamIdleTimeout = 5 * time.Minute
)

// boundListener is one listening socket. Its handler is swapped atomically on
// every config change; a request reads it once, so in-flight requests finish
// on the config they started with.
type boundListener struct {
	addr    string
	ln      net.Listener
	srv     *downstream.Server
	serving bool
	handler atomic.Pointer[http.Handler]
	kind    string // what it serves: http, https or tcp
	// tls is set on an HTTPS listener: its chains, read per handshake;
	// tcp on a TCP listener, read per connection.
	tls atomic.Pointer[tlsServing]
	tcp atomic.Pointer[tcpServing]
	h2  *http2.Server // HTTP/2 over TLS, for connections that chose h2
}

// servedListener is what a listener serves: one handler, or TLS chains.
type servedListener struct {
	handler http.Handler
	tls     *tlsServing
	tcp     *tcpServing
}

func (sl servedListener) kind() string {
	switch {
	case sl.tls != nil:
		return "https"
	case sl.tcp != nil:
		return "tcp"
	}
	return "http"
}

func (b *boundListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*b.handler.Load()).ServeHTTP(w, r)
}

// listenerManager owns the sockets. Addresses are bound as soon as an LDS
// update is accepted (a bind error NACKs it) but served only once a complete
// config references them, like Envoy's listener warming.
type listenerManager struct {
	log    *slog.Logger
	guard  guard.Guard               // for every connection's goroutine
	mu     sync.Mutex                // guards bound against activeConnections
	bound  map[string]*boundListener // by address
	drains sync.WaitGroup
}

// activeConnections counts the HTTP/1.1 connections of the listeners
// serving now, for the downstream_cx_active statistic.
func (m *listenerManager) activeConnections() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, b := range m.bound {
		if b.srv != nil {
			n += int64(b.srv.Active())
		}
	}
	return n
}

func newListenerManager(guard guard.Guard) *listenerManager {
	return &listenerManager{log: guard.Log, guard: guard, bound: map[string]*boundListener{}}
}

// reserve binds every address of want not bound yet and returns the
// addresses that could not be bound, with why: each listener stands alone,
// as in Envoy, so one port held by another process holds back no other.
// Reserved sockets that are neither wanted nor serving are closed.
func (m *listenerManager) reserve(want map[string]bool) map[string]error {
	m.mu.Lock()
	defer m.mu.Unlock()
	failed := map[string]error{}
	for addr := range want {
		if _, ok := m.bound[addr]; ok {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			failed[addr] = fmt.Errorf("binding %s: %w", addr, err)
			continue
		}
		m.bound[addr] = &boundListener{addr: addr, ln: ln}
	}
	for addr, b := range m.bound {
		if !b.serving && !want[addr] {
			_ = b.ln.Close()
			delete(m.bound, addr)
		}
	}
	return failed
}

// activate serves exactly the given listeners: it swaps what running
// listeners serve, starts reserved ones and gracefully drains the others.
// A listener whose kind changes (plain HTTP, HTTPS, TCP) is drained and
// its address bound again for the new kind.
func (m *listenerManager) activate(served map[string]servedListener) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for addr, sl := range served {
		b := m.bound[addr]
		if b.serving && b.kind != sl.kind() {
			if b = m.rebind(b); b == nil {
				continue
			}
		}
		switch sl.kind() {
		case "https":
			b.tls.Store(sl.tls)
		case "tcp":
			b.tcp.Store(sl.tcp)
		default:
			b.handler.Store(&sl.handler)
		}
		if !b.serving {
			b.serving, b.kind = true, sl.kind()
			b.srv = downstream.NewServer(b, m.guard)
			go m.serve(b, sl.kind())
			m.log.Info("listener serving", "address", addr, "kind", sl.kind())
		}
	}
	for addr, b := range m.bound {
		if _, ok := served[addr]; !ok && b.serving {
			delete(m.bound, addr)
			m.drain(b)
		}
	}
}

func (m *listenerManager) serve(b *boundListener, kind string) {
	var err error
	switch kind {
	case "https":
		b.h2 = &http2.Server{IdleTimeout: downstream.IdleTimeout}
		err = m.serveTLS(b)
	case "tcp":
		err = m.serveTCP(b)
	default:
		err = b.srv.Serve(b.ln)
	}
	if !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		m.log.Error("listener stopped", "address", b.addr, "error", err)
	}
}

// rebind drains b and binds its address anew, for a listener of another
// kind; nil when the address cannot be bound again (it is then dropped).
func (m *listenerManager) rebind(b *boundListener) *boundListener {
	m.log.Info("listener changes kind", "address", b.addr, "from", b.kind)
	delete(m.bound, b.addr)
	m.drain(b) // closes the socket at once
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		m.log.Error("listener could not be bound again for its new kind", "address", b.addr, "error", err)
		return nil
	}
	nb := &boundListener{addr: b.addr, ln: ln}
	m.bound[b.addr] = nb
	return nb
}

// acceptLoop accepts on b's socket until it closes, serving each
// connection in a goroutine of its own (the HTTP listeners' server has
// its own loop).
func (m *listenerManager) acceptLoop(b *boundListener, serve func(net.Conn)) error {
	for {
		conn, err := b.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			m.log.Warn("accept failed", "address", b.addr, "error", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go serve(conn)
	}
}

// drain stops accepting on b and lets in-flight requests finish, in the background.
func (m *listenerManager) drain(b *boundListener) {
	m.log.Info("listener draining", "address", b.addr)
	_ = b.ln.Close() // a TLS listener's accept loop is the manager's own
	m.drains.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		if err := b.srv.Shutdown(ctx); err != nil {
			_ = b.srv.Close()
		}
	})
}

// shutdown drains every listener and waits for all drains, bounded by ctx.
func (m *listenerManager) shutdown(ctx context.Context) {
	m.mu.Lock()
	for addr, b := range m.bound {
		delete(m.bound, addr)
		if b.serving {
			m.drain(b)
		} else {
			_ = b.ln.Close()
		}
	}
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.drains.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
