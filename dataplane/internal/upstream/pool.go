package upstream

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

// Pool is the connection pool of a plain HTTP/1.1 cluster: idle keep-alive
// connections per endpoint, each used by the request's own handler
// goroutine. net/http's Transport passes every request to a write goroutine
// and every response back from a read goroutine that then reads ahead on the
// idle connection; on a proxy's hot path those hand-offs and the extra read
// cost more than the proxying itself.
type Pool struct {
	dialer      net.Dialer
	idleTimeout time.Duration // 0: idle connections are kept until retired
	open        *atomic.Int64 // counts the open connections; nil: not counted

	mu     sync.Mutex
	idle   map[string][]*h1Conn // by endpoint address; most recently used last
	reaper *time.Timer          // armed while there are idle connections to expire
	closed bool                 // retired: connections are closed, not kept
}

// NewPool returns an HTTP/1.1 pool; open, when not nil, counts its open
// connections.
func NewPool(connectTimeout, idleTimeout time.Duration, open *atomic.Int64) *Pool {
	return &Pool{
		dialer:      net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second},
		idleTimeout: idleTimeout,
		open:        open,
		idle:        map[string][]*h1Conn{},
	}
}

// roundTrip sends the request to addr on a pooled or new connection. A
// pooled connection the endpoint closed while it was idle fails before any
// response byte arrives; the request then goes once more on a new
// connection when that is safe (see retryStale), as net/http's Transport
// does, without counting as a retry of the route's policy.
func (p *Pool) RoundTrip(r *http.Request, body Body, addr, target, host string, deadline time.Time) (*http.Response, error) {
	replayable := replayableRequest(r, &body)
	c := p.get(addr, replayable)
	for {
		if c == nil {
			var err error
			if c, err = p.dial(r.Context(), addr, deadline); err != nil {
				return nil, err
			}
		}
		resp, err := c.roundTrip(r, &body, target, host, deadline)
		if err == nil {
			return resp, nil
		}
		if !c.reused || !retryStale(err, replayable) || r.Context().Err() != nil {
			return nil, err
		}
		c = nil
	}
}

// get takes the most recently used idle connection to addr, or returns nil.
// Unless the request can be sent again when the connection turns out to be
// closed, the connection is first checked for a close by the endpoint.
func (p *Pool) get(addr string, replayable bool) *h1Conn {
	for {
		p.mu.Lock()
		list := p.idle[addr]
		if len(list) == 0 {
			p.mu.Unlock()
			return nil
		}
		c := list[len(list)-1]
		list[len(list)-1] = nil
		p.idle[addr] = list[:len(list)-1]
		p.mu.Unlock()
		if p.expired(c, time.Now()) || !replayable && !c.alive() {
			c.close()
			continue
		}
		c.reused = true
		return c
	}
}

func (p *Pool) expired(c *h1Conn, now time.Time) bool {
	return p.idleTimeout > 0 && now.Sub(c.idleSince) >= p.idleTimeout
}

func (p *Pool) dial(ctx context.Context, addr string, deadline time.Time) (*h1Conn, error) {
	d := p.dialer
	d.Deadline = deadline
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &ConnectError{err: err}
	}
	return newH1Conn(p, addr, h1.NewRawSocket(counted(conn, p.open))), nil
}

// put keeps a connection whose last exchange completed cleanly.
func (p *Pool) put(c *h1Conn) {
	c.idleSince = time.Now()
	c.reused = false
	p.mu.Lock()
	if p.closed || len(p.idle[c.addr]) >= maxIdlePerHost {
		p.mu.Unlock()
		c.close()
		return
	}
	p.idle[c.addr] = append(p.idle[c.addr], c)
	if p.reaper == nil && p.idleTimeout > 0 {
		p.reaper = time.AfterFunc(p.idleTimeout, p.reap)
	}
	p.mu.Unlock()
}

// reap closes the connections idle for longer than the idle timeout and
// re-arms itself for the oldest of the others.
func (p *Pool) reap() {
	var stale []*h1Conn
	now := time.Now()
	p.mu.Lock()
	next := time.Duration(0)
	for addr, list := range p.idle {
		i := 0
		for i < len(list) && p.expired(list[i], now) {
			i++
		}
		stale = append(stale, list[:i]...)
		n := copy(list, list[i:])
		clear(list[n:])
		if list = list[:n]; n == 0 {
			delete(p.idle, addr)
			continue
		}
		p.idle[addr] = list
		if wait := p.idleTimeout - now.Sub(list[0].idleSince); next == 0 || wait < next {
			next = wait
		}
	}
	if next > 0 && !p.closed {
		p.reaper.Reset(next)
	} else {
		p.reaper = nil
	}
	p.mu.Unlock()
	for _, c := range stale {
		c.close()
	}
}

// closeIdle closes every idle connection; connections in use are closed
// when their request completes.
func (p *Pool) CloseIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = map[string][]*h1Conn{}, true
	if p.reaper != nil {
		p.reaper.Stop()
		p.reaper = nil
	}
	p.mu.Unlock()
	for _, list := range idle {
		for _, c := range list {
			c.close()
		}
	}
}
