package downstream

import (
	"net/http"
	"os"
	"time"
)

// BodyTimeoutError is a request body read stopped by a timeout: the
// stream's idle timeout or request timeout (408), or the route's timeout
// while the body was still arriving (504).
type BodyTimeoutError struct {
	Route bool // the route's timeout, not the stream's
}

func (e *BodyTimeoutError) Error() string {
	if e.Route {
		return "the route timeout passed while the request body was arriving"
	}
	return "the request body stopped arriving (stream idle or request timeout)"
}

func (*BodyTimeoutError) Timeout() bool   { return true }
func (*BodyTimeoutError) Temporary() bool { return false }
func (*BodyTimeoutError) Unwrap() error   { return os.ErrDeadlineExceeded }

// bodyLimits are how long a request body may take on a connection: idle
// is reset by every read, until is a fixed deadline (the request timeout
// or the route's), routeUntil tells which of the two until is.
type bodyLimits struct {
	idle       time.Duration
	lastRead   time.Time
	until      time.Time
	routeUntil bool
}

// bodyLimiter is the downstream writer of Gluon's HTTP/1.1 server, which
// bounds request bodies by their listener's timeouts.
type bodyLimiter interface {
	limitBody(idle, total time.Duration)
}

// limitRequestBody bounds r's body by the listener's stream idle timeout
// and request timeout; net/http's HTTP/2 server takes the request timeout
// as a fixed read deadline.
func LimitRequestBody(w http.ResponseWriter, r *http.Request, idle, total time.Duration) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	if bl, ok := w.(bodyLimiter); ok {
		bl.limitBody(idle, total)
	} else if total > 0 {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(total))
	}
}

// limitBody starts bounding the body of the request being served: the
// stream idle timeout and the request timeout of its listener. A request
// without a body costs nothing.
func (w *responseWriter) limitBody(idle, total time.Duration) {
	if w.body == nil || w.body.readWhole() || idle == 0 && total == 0 {
		return
	}
	c := w.c
	now := time.Now()
	c.body = bodyLimits{idle: idle, lastRead: now}
	if total > 0 {
		c.body.until = now.Add(total)
	}
	c.armBodyDeadline(now)
}

// SetReadDeadline bounds the body by the route's timeout too (so that
// http.ResponseController reaches it); the earlier deadline wins.
func (w *responseWriter) SetReadDeadline(d time.Time) error {
	if w.body == nil || w.body.readWhole() || d.IsZero() {
		return nil
	}
	c := w.c
	if c.body.until.IsZero() || d.Before(c.body.until) {
		c.body.until, c.body.routeUntil = d, true
	}
	c.armBodyDeadline(time.Now())
	return nil
}

// armBodyDeadline sets the socket's read deadline to the earlier of the
// idle and fixed deadlines; the idle deadline is only moved when it runs
// out, so reads that keep coming cost no deadline change each.
func (c *downstreamConn) armBodyDeadline(now time.Time) {
	d := c.body.until
	if c.body.idle > 0 {
		if idle := c.body.lastRead.Add(c.body.idle); d.IsZero() || idle.Before(d) {
			d = idle
		}
	}
	c.readUntil = time.Time{} // the idle deadline is set again after the request
	if d.IsZero() {
		d = now.Add(IdleTimeout)
	}
	_ = c.conn.SetReadDeadline(d)
}

// bodyDeadlinePassed is called when a body read ran into its deadline: it
// returns the timeout that ended the body, or nil after moving the idle
// deadline past reads that came since it was set.
func (c *downstreamConn) bodyDeadlinePassed() error {
	now := time.Now()
	b := &c.body
	switch {
	case !b.until.IsZero() && !now.Before(b.until):
		return &BodyTimeoutError{Route: b.routeUntil}
	case b.idle > 0 && now.Sub(b.lastRead) >= b.idle:
		return &BodyTimeoutError{}
	}
	c.armBodyDeadline(now)
	return nil
}
