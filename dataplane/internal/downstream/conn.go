package downstream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

const (
	// maxRequestHeadBytes bounds a request's line and headers, as Envoy's
	// max_request_headers_kb (60 KiB by default) does.
	maxRequestHeadBytes = 60 << 10
	// maxDrainBytes is how much of a body the handler left unread is read
	// and dropped to keep the connection; beyond it the connection closes.
	maxDrainBytes = 256 << 10
	// idleRefresh is how stale the idle deadline may grow before it is
	// moved: a connection busy with requests sets it once per interval,
	// not once per request.
	idleRefresh = IdleTimeout / 8
	// nextRequestWait bounds how long a response's last write waits for
	// the next request (see awaitNextRequest) before an ordinary read
	// takes over.
	nextRequestWait = 10 * time.Millisecond
	// lingerTimeout bounds how long a closing connection drops what the
	// client still sends (see linger).
	lingerTimeout = time.Second
)

// h2Preface is how an HTTP/2 connection with prior knowledge opens.
const h2Preface = "PRI * HTTP/2.0"

// downstreamConn is one client connection served as HTTP/1.1: requests are
// read and answered one at a time, pipelined ones in order.
type downstreamConn struct {
	srv           *Server
	conn          net.Conn
	remoteAddr    string
	h1.HeadReader                   // its BR reads requests from c (see Read)
	bw            *bufio.Writer     // writes to out
	out           h1.AwaitingWriter // the connection
	rw            responseWriter

	continueMu sync.Mutex   // orders a 100 Continue before the response head
	idle       atomic.Bool  // waiting for the next request; Shutdown may wake it
	readUntil  time.Time    // the idle read deadline set last
	awaitUntil time.Time    // the earlier deadline of a wait for the next request, in force; zero: none
	noAwait    bool         // no such waits: the socket cannot, or one missed a request
	headLeft   h1.HeadLimit // while a request head is read
	active     *requestContext
	spelled    map[string]string // the last request head's names not received canonical (see ReceivedNames)
	body       bodyLimits        // while a request's body is read
	bodyErr    error             // the timeout that ended the active request's body
	hijacked   bool              // a handler took the connection over (Hijack)
	handler    http.Handler
}

func newDownstreamConn(s *Server, conn net.Conn) *downstreamConn {
	c := &downstreamConn{srv: s, conn: conn, remoteAddr: conn.RemoteAddr().String(), handler: s.handler}
	c.BR, c.RefuseFolds = bufio.NewReaderSize(c, h1.BufferSize), true
	c.out.Conn = conn
	_, canAwait := conn.(h1.ReadAwaiter)
	c.noAwait = !canAwait
	c.bw = bufio.NewWriterSize(&c.out, h1.BufferSize)
	c.rw.c = c
	return c
}

func (c *downstreamConn) serve() {
	defer c.srv.untrack(c)
	defer c.srv.guard.Recover("connection", c.conn, "remote", c.remoteAddr)
	if c.openedWithH2Preface() {
		c.srv.handOff(&replayConn{Conn: c.conn, buffered: c.buffered()})
		return
	}
	defer func() {
		if !c.hijacked {
			_ = c.conn.Close()
		}
	}()
	for c.waitForRequest() {
		req, err := c.readRequest()
		if err != nil {
			c.replyBadRequest(err)
			return
		}
		if !c.serveRequest(req) {
			return
		}
	}
}

// openedWithH2Preface peeks at the connection's first bytes, no more than
// it takes to tell them from the HTTP/2 preface.
func (c *downstreamConn) openedWithH2Preface() bool {
	c.idle.Store(true)
	c.refreshDeadline()
	for n := 1; ; n = c.BR.Buffered() + 1 {
		got, err := c.BR.Peek(min(n, len(h2Preface)))
		if err != nil || !strings.HasPrefix(h2Preface, string(got)) {
			return false
		}
		if len(got) == len(h2Preface) {
			return true
		}
	}
}

// buffered returns a copy of what was read from the connection and not used.
func (c *downstreamConn) buffered() []byte {
	b, _ := c.BR.Peek(c.BR.Buffered())
	return bytes.Clone(b)
}

// waitForRequest marks the connection idle and reports whether it should
// read another request: not when the server is shutting down.
func (c *downstreamConn) waitForRequest() bool {
	c.idle.Store(true)
	if c.srv.shutting.Load() {
		return false
	}
	c.refreshDeadline()
	return true
}

// refreshDeadline moves the read deadline to IdleTimeout from now when it
// has grown stale by idleRefresh: under load that is one deadline change
// per connection per idleRefresh, not one per request.
func (c *downstreamConn) refreshDeadline() {
	now := time.Now()
	if c.readUntil.Sub(now) > IdleTimeout-idleRefresh {
		return
	}
	c.readUntil, c.awaitUntil = now.Add(IdleTimeout), time.Time{}
	_ = c.conn.SetReadDeadline(c.readUntil)
}

// Read is what br reads from: the connection, with the request head held to
// maxRequestHeadBytes. The deadline bounds waiting for a request; while one
// is being served (its body read), it is moved on instead.
func (c *downstreamConn) Read(p []byte) (int, error) {
	p, err := c.headLeft.Clip(p)
	if err != nil {
		return 0, err
	}
	n, err := c.conn.Read(p)
	for n == 0 && errors.Is(err, os.ErrDeadlineExceeded) && c.extendDeadline() {
		n, err = c.conn.Read(p)
	}
	if c.bodyErr != nil {
		return 0, c.bodyErr
	}
	if n > 0 && c.body.idle > 0 {
		c.body.lastRead = time.Now()
	}
	c.headLeft.Took(n)
	return n, err
}

// extendDeadline reports whether a read that ran into its deadline should
// go on: after a wait for the next request ran out (the idle deadline is
// then put back), or while a request is served (its body read). A wait
// that ran out with a request already there had missed it: the client
// sent it before the previous response, and the connection waits that way
// no more.
func (c *downstreamConn) extendDeadline() bool {
	switch {
	case c.srv.shutting.Load():
		return false
	case !c.awaitUntil.IsZero():
		c.awaitUntil = time.Time{}
		if c.active == nil { // a request was awaited, not a body
			c.noAwait = h1.Peek(c.conn) == h1.PeekData
		}
		return c.conn.SetReadDeadline(c.readUntil) == nil
	case c.active != nil && (c.body.idle > 0 || !c.body.until.IsZero()):
		c.bodyErr = c.bodyDeadlinePassed()
		return c.bodyErr == nil
	case c.active != nil:
		c.readUntil = time.Time{}
		c.refreshDeadline()
		return true
	}
	return false
}

// awaitNextRequest has the response's last write also wait for the next
// request (see h1.AwaitingWriter), when nothing of this one is left to read:
// no body, or one read whole, and no pipelined request buffered. A client
// may still have sent a request since the last read, unseen by that wait
// (see rawSocket.WriteAwaitingRead): a deadline of nextRequestWait ends
// it, and extendDeadline then finds the request.
func (c *downstreamConn) awaitNextRequest(body *downstreamBody) {
	// The body first: while it is not read whole, another goroutine may
	// be reading it, and with it the fields below.
	if !body.readWhole() || c.noAwait || c.bw.Buffered() == 0 || c.BR.Buffered() > 0 {
		return
	}
	until := time.Now().Add(nextRequestWait)
	if until.After(c.readUntil) || c.conn.SetReadDeadline(until) != nil {
		return
	}
	c.awaitUntil, c.out.Await = until, true
}

// badRequestError is a request the connection cannot serve; its code is the
// status to answer with before closing.
type badRequestError struct {
	code int
	err  error
}

func (e *badRequestError) Error() string { return e.err.Error() }
func (e *badRequestError) Unwrap() error { return e.err }

func badRequest(code int, format string, args ...any) error {
	return &badRequestError{code: code, err: fmt.Errorf(format, args...)}
}

// readRequest reads the next request head, held to maxRequestHeadBytes.
func (c *downstreamConn) readRequest() (*http.Request, error) {
	c.headLeft = h1.HeadLimit(maxRequestHeadBytes - c.BR.Buffered())
	req, err := c.parseRequestHead()
	c.headLeft = 0
	c.idle.Store(false)
	switch {
	case errors.Is(err, h1.ErrHeadTooLarge):
		return nil, badRequest(http.StatusRequestHeaderFieldsTooLarge, "request head over %d bytes", maxRequestHeadBytes)
	case err == nil || errors.As(err, new(*badRequestError)) || ConnectionError(err):
		return req, err
	}
	return nil, &badRequestError{code: http.StatusBadRequest, err: err}
}

// replyBadRequest answers a request that could not be read. A client that
// hung up or a connection that timed out or closed gets no answer.
func (c *downstreamConn) replyBadRequest(err error) {
	var bre *badRequestError
	if !errors.As(err, &bre) {
		return
	}
	c.srv.log.Debug("bad request", "remote", c.remoteAddr, "error", err)
	text := http.StatusText(bre.code)
	fmt.Fprintf(c.bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		bre.code, text, len(text), text)
	_ = c.bw.Flush()
}

// connectionError reports whether err is the connection's (the client hung
// up, a deadline passed) rather than something wrong with the request.
func ConnectionError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne)
}

// serveRequest runs the handler on req, finishes the response and reports
// whether the connection may carry another request.
func (c *downstreamConn) serveRequest(req *http.Request) (keep bool) {
	ctx := newRequestContext(c.conn)
	ctx.spelled, c.spelled = c.spelled, nil
	c.active = ctx
	defer func() {
		c.active, c.body, c.bodyErr = nil, bodyLimits{}, nil
		ctx.finish()
	}()
	body := newDownstreamBody(req, c)
	if expect := req.Header.Get("Expect"); expect != "" {
		if !strings.EqualFold(expect, "100-continue") || req.ProtoMinor == 0 {
			c.rw.start(req, body)
			c.rw.closeAfter = true
			c.rw.WriteHeader(http.StatusExpectationFailed)
			return c.rw.finish()
		}
		if body != nil {
			body.expectContinue = true
		}
	}
	req = req.WithContext(ctx)
	c.rw.start(req, body)
	if !c.runHandler(req) || c.hijacked {
		return false
	}
	if keep = c.rw.finish(); keep && !body.drain() {
		c.linger()
		return false
	}
	return keep
}

// linger is how a connection closes with request bytes still coming (a body
// too large to drain): it stops sending, then reads and drops what arrives
// until the client closes or lingerTimeout passes, as Envoy's delayed close
// does. Closed at once, the socket would answer those bytes with a reset,
// which can destroy the response before the client reads it.
func (c *downstreamConn) linger() {
	cw, ok := c.conn.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil || c.conn.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
		return
	}
	_, _ = io.Copy(io.Discard, c.conn)
}

// runHandler calls the handler and reports whether it returned normally. A
// handler that panics (http.ErrAbortHandler on purpose, to reset the
// stream) gets the connection closed without finishing the response, so
// the client cannot take a partial body for a whole one.
func (c *downstreamConn) runHandler(req *http.Request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				c.srv.log.Error("handler panicked", "remote", c.remoteAddr, "panic", p, "stack", string(debug.Stack()))
			}
			ok = false
		}
	}()
	c.handler.ServeHTTP(&c.rw, req)
	return true
}

// replayConn is a connection whose first reads return bytes already read
// from it, for a handed-over h2c connection.
type replayConn struct {
	net.Conn
	buffered []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.buffered) > 0 {
		n := copy(p, c.buffered)
		c.buffered = c.buffered[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
