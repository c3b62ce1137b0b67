package upstream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

// h1Conn is one upstream HTTP/1.1 connection, used by one request at a time.
// It holds read and write buffers only while a request is in flight, so that
// idle connections cost no more than their sockets.
type h1Conn struct {
	pool      *Pool
	addr      string
	conn      net.Conn
	idleSince time.Time
	reused    bool      // taken from the pool rather than dialled for this request
	readUntil time.Time // the read deadline last set on conn; zero: none

	// While a request is in flight:
	client        context.Context // the downstream request's
	deadline      time.Time       // the try's; zero: none
	h1.HeadReader                 // its BR reads the response from c (see Read)
	header        http.Header     // the response's, reused
	headLeft      h1.HeadLimit    // while the response head is read; see Read
	writeDone     chan error      // the body writer's result when the body is written concurrently
	// bodyErr is set by a body writer that could not read the downstream
	// body, before it closes the connection to stop the response read: the
	// reader, failing on that close, reports it instead.
	bodyErr atomic.Pointer[RequestBodyError]
	reqW    h1.AwaitingWriter // what a request sent inline is written to
	resp    http.Response
	body    h1Body
}

const (
	// inlineBodyMax is the largest buffered request body written before the
	// response is read, by the handler goroutine itself. It stays far below
	// socket buffer sizes, so the write cannot block on an endpoint that
	// answers without reading the body; larger and streamed bodies are
	// written by a goroutine of their own while the response is read.
	inlineBodyMax = 16 << 10
)

var (
	h1ReaderPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, h1.BufferSize) }}
	h1WriterPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, h1.BufferSize) }}
)

func newH1Conn(p *Pool, addr string, conn net.Conn) *h1Conn {
	return &h1Conn{pool: p, addr: addr, conn: conn}
}

// staleConnError is a failure before any byte of the response arrived on a
// connection taken from the pool: typically the endpoint closed it while it
// was idle, and did not process the request.
type staleConnError struct {
	err            error
	nothingWritten bool // not one byte of the request left
}

func (e *staleConnError) Error() string { return e.err.Error() }
func (e *staleConnError) Unwrap() error { return e.err }

// RequestBodyError is a failure to read the downstream request body.
type RequestBodyError struct{ err error }

func (e *RequestBodyError) Error() string { return "reading request body: " + e.err.Error() }
func (e *RequestBodyError) Unwrap() error { return e.err }

// retryStale reports whether a request that failed on a pooled connection
// may be sent again on a new one: when nothing of it was sent, or when it
// can be replayed and the failure says the connection was already closed.
func retryStale(err error, replayable bool) bool {
	var se *staleConnError
	return errors.As(err, &se) && (se.nothingWritten || replayable)
}

// replayableRequest reports whether a request may be sent twice: its body
// (if any) is buffered and its method idempotent, as net/http decides.
func replayableRequest(r *http.Request, body *Body) bool {
	if !body.Replayable() {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return len(r.Header["Idempotency-Key"]) > 0 || len(r.Header["X-Idempotency-Key"]) > 0
}

// roundTrip sends one request and reads the response head. The deadline
// (the try's, or the route's) bounds the whole exchange, body included, and
// a client that goes away aborts it; both without a goroutine or timer per
// request (see Read).
func (c *h1Conn) roundTrip(r *http.Request, body *Body, target, host string, deadline time.Time) (*http.Response, error) {
	c.client, c.deadline = r.Context(), deadline
	if c.readUntil.IsZero() || !deadline.IsZero() && c.readUntil.After(deadline) {
		if err := c.setReadDeadline(time.Now()); err != nil {
			_ = c.conn.Close()
			return nil, fmt.Errorf("upstream connection: %w", err)
		}
	}
	c.BR = h1ReaderPool.Get().(*bufio.Reader)
	c.BR.Reset(c)
	if err := c.send(r, body, target, host); err != nil {
		c.done(false)
		return nil, c.staleOr(err)
	}
	resp, err := c.readResponse(r.Method)
	if err != nil {
		err = c.writeError(err)
		c.done(false)
		return nil, err
	}
	return resp, nil
}

// send writes the request. A small request goes out in one write; a larger
// or streamed body is left to a goroutine so that the response can be read
// while it is sent, since an endpoint may answer before reading it all.
func (c *h1Conn) send(r *http.Request, body *Body, target, host string) error {
	inline := body.stream == nil && len(body.buf) <= inlineBodyMax
	bw := h1WriterPool.Get().(*bufio.Writer)
	if inline {
		c.reqW = h1.AwaitingWriter{Conn: c.conn}
		bw.Reset(&c.reqW)
	} else {
		bw.Reset(c.conn)
	}
	if err := writeHead(bw, r, target, host, body.length); err != nil {
		h1WriterPool.Put(bw)
		return err
	}
	if inline {
		queued := bw.Buffered() + len(body.buf)
		_, _ = bw.Write(body.buf) // a write error is kept by bw and returned by Flush
		// Sent in one write, the request can have only its response come
		// next: the connection was idle, its last response read whole.
		c.reqW.Await = !c.reqW.Wrote
		err := bw.Flush()
		if err != nil && queued <= bw.Size() && bw.Buffered() == queued {
			err = &staleConnError{err: err, nothingWritten: true}
		}
		bw.Reset(nil)
		h1WriterPool.Put(bw)
		return err
	}
	if !c.deadline.IsZero() {
		if err := c.conn.SetWriteDeadline(c.deadline); err != nil {
			h1WriterPool.Put(bw)
			return fmt.Errorf("upstream connection: %w", err)
		}
	}
	done := make(chan error, 1)
	c.writeDone = done
	b := *body
	go func() {
		err := writeBody(bw, r, &b)
		bw.Reset(nil)
		h1WriterPool.Put(bw)
		if be := (*RequestBodyError)(nil); errors.As(err, &be) {
			// The request cannot be completed: stop waiting for a response.
			c.bodyErr.Store(be)
			_ = c.conn.Close()
		}
		done <- err
	}()
	return nil
}

// writeError prefers, for a request whose body was still being written,
// the writer's reason when it failed to read the downstream body.
func (c *h1Conn) writeError(readErr error) error {
	if c.writeDone == nil {
		return readErr
	}
	if be := c.bodyErr.Load(); be != nil {
		return be
	}
	select {
	case werr := <-c.writeDone:
		c.writeDone = nil
		if errors.As(werr, new(*RequestBodyError)) {
			return werr
		}
	default:
	}
	return readErr
}

// staleOr marks err as a stale-connection failure when the connection came
// from the pool and the error is the endpoint's close, not a timeout or an
// abort.
func (c *h1Conn) staleOr(err error) error {
	if !c.reused || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, new(*staleConnError)) ||
		!(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
		return err
	}
	return &staleConnError{err: err}
}

// Read is what c.BR reads from: the connection, with the response head
// limited to headLeft bytes while it is being read (headLeft > 0).
func (c *h1Conn) Read(p []byte) (int, error) {
	p, err := c.headLeft.Clip(p)
	if err != nil {
		return 0, err
	}
	n, err := c.conn.Read(p)
	for err != nil && n == 0 && errors.Is(err, os.ErrDeadlineExceeded) && c.extendRead() {
		n, err = c.conn.Read(p)
	}
	c.headLeft.Took(n)
	return n, err
}

// The read deadline is at most h1.ClientCheckInterval away. When it passes,
// extendRead checks that the client is still there and the try's deadline
// not reached, and sets the next one. A connection keeps its read deadline
// across requests while it is no later than the try's, so that requests
// faster than the interval set none at all.
func (c *h1Conn) extendRead() bool {
	now := time.Now()
	if c.client.Err() != nil || !c.deadline.IsZero() && !now.Before(c.deadline) {
		return false
	}
	return c.setReadDeadline(now) == nil
}

func (c *h1Conn) setReadDeadline(now time.Time) error {
	t := now.Add(h1.ClientCheckInterval)
	if !c.deadline.IsZero() && c.deadline.Before(t) {
		t = c.deadline
	}
	c.readUntil = t
	return c.conn.SetReadDeadline(t)
}

// done ends an exchange: the connection returns to its pool when reuse holds
// and nothing else may still touch it, and is closed otherwise.
func (c *h1Conn) done(reuse bool) {
	if c.writeDone != nil {
		select {
		case err := <-c.writeDone:
			reuse = reuse && err == nil && c.conn.SetWriteDeadline(time.Time{}) == nil
		default:
			reuse = false // the endpoint answered before taking the whole body
		}
		c.writeDone = nil
	}
	c.client = nil
	if c.BR.Buffered() > 0 {
		reuse = false // bytes beyond the response
	}
	c.BR.Reset(nil)
	h1ReaderPool.Put(c.BR)
	c.BR = nil
	c.resp = http.Response{}
	clear(c.header)
	if reuse {
		c.pool.put(c)
	} else {
		_ = c.conn.Close()
	}
}

// close closes an idle connection.
func (c *h1Conn) close() { _ = c.conn.Close() }
