package downstream

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

// requestContext is a downstream request's context. Like net/http's, it is
// canceled when the handler returns or the client goes away; but it notices
// the latter only when asked, by peeking at the socket, instead of keeping
// a read pending on every connection: Err peeks (the upstream client asks
// every h1.ClientCheckInterval while it waits), and the first call to Done
// starts a goroutine that peeks at that interval until the request ends.
type requestContext struct {
	conn    net.Conn
	spelled map[string]string // see ReceivedNames

	mu       sync.Mutex
	err      error
	done     chan struct{} // made by the first Done
	finished chan struct{} // closed by finish once a watcher runs
}

func newRequestContext(conn net.Conn) *requestContext {
	return &requestContext{conn: conn}
}

func (ctx *requestContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// receivedNamesKey is the context key of a request's received spellings.
type receivedNamesKey struct{}

func (ctx *requestContext) Value(key any) any {
	if _, ok := key.(receivedNamesKey); ok && ctx.spelled != nil {
		return ctx.spelled
	}
	return nil
}

// ReceivedNames says how the client spelled the header names of the
// request whose context ctx is (or derives from) that it did not send in
// canonical form: lower-case name → spelling. A name not there came
// canonical; nil for a request this server did not read.
func ReceivedNames(ctx context.Context) map[string]string {
	m, _ := ctx.Value(receivedNamesKey{}).(map[string]string)
	return m
}

func (ctx *requestContext) Err() error {
	ctx.mu.Lock()
	err := ctx.err
	ctx.mu.Unlock()
	if err != nil {
		return err
	}
	if h1.Peek(ctx.conn) == h1.PeekClosed {
		ctx.cancel()
		return context.Canceled
	}
	return nil
}

func (ctx *requestContext) Done() <-chan struct{} {
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	if ctx.done == nil {
		ctx.done = make(chan struct{})
		if ctx.err != nil {
			close(ctx.done)
		} else {
			ctx.finished = make(chan struct{})
			go ctx.watch(ctx.finished)
		}
	}
	return ctx.done
}

// watch cancels the context when the client goes away, until finished.
func (ctx *requestContext) watch(finished <-chan struct{}) {
	t := time.NewTicker(h1.ClientCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-finished:
			return
		case <-t.C:
			if h1.Peek(ctx.conn) == h1.PeekClosed {
				ctx.cancel()
				return
			}
		}
	}
}

func (ctx *requestContext) cancel() {
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	if ctx.err != nil {
		return
	}
	ctx.err = context.Canceled
	if ctx.done != nil {
		close(ctx.done)
	}
}

// finish ends the request: the context is canceled and its watcher stops.
func (ctx *requestContext) finish() {
	ctx.cancel()
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	if ctx.finished != nil {
		close(ctx.finished)
		ctx.finished = nil
	}
}
