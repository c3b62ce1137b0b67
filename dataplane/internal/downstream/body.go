package downstream

import (
	"errors"
	"io"
	"net/http"
	"sync"
)

var errBodyClosed = errors.New("http: invalid Read on closed Body")

// downstreamBody is a request body as handlers see it. It sends the
// client's 100 Continue before the first read, when the client asked for it
// and no response has started. Once the request is over it is closed, so a
// goroutine still holding it (an upstream body writer) cannot read the next
// request's bytes.
type downstreamBody struct {
	c   *downstreamConn
	src io.Reader // the framing reader (sized or chunked) from parseRequestHead

	mu             sync.Mutex
	expectContinue bool // a 100 Continue is owed before the first read; c.continueMu
	sawEOF         bool
	closed         bool
}

// newDownstreamBody wraps req's body; a request without one keeps
// http.NoBody (frameRequestBody sets it) and costs nothing.
func newDownstreamBody(req *http.Request, c *downstreamConn) *downstreamBody {
	if req.Body == http.NoBody {
		return nil
	}
	b := &downstreamBody{c: c, src: req.Body}
	req.Body = b
	return b
}

func (b *downstreamBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errBodyClosed
	}
	if b.sawEOF {
		return 0, io.EOF
	}
	b.c.sendContinue(b)
	n, err := b.src.Read(p)
	if err == io.EOF {
		b.sawEOF = true
	}
	return n, err
}

// readWhole reports whether nothing of the body is left on the connection:
// there is none, or it was read to its end.
func (b *downstreamBody) readWhole() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sawEOF
}

// Close stops reads by the handler; what is left unread is dealt with by
// drain when the response is done.
func (b *downstreamBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// drain reads and drops what the handler left of the body, up to
// maxDrainBytes, and reports whether the connection can carry another
// request. A client still waiting for its 100 Continue never sent the
// body: the connection closes rather than wait for it.
func (b *downstreamBody) drain() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.sawEOF {
		return true
	}
	b.c.continueMu.Lock()
	owed := b.expectContinue
	b.expectContinue = false
	b.c.continueMu.Unlock()
	if owed {
		return false
	}
	n, err := io.CopyN(io.Discard, b.src, maxDrainBytes+1)
	return err == io.EOF && n <= maxDrainBytes
}

// sendContinue writes the 100 Continue b owes, unless the response has
// started (then the client either sends the body anyway or gives up).
func (c *downstreamConn) sendContinue(b *downstreamBody) {
	c.continueMu.Lock()
	defer c.continueMu.Unlock()
	if !b.expectContinue {
		return
	}
	b.expectContinue = false
	if c.rw.committed {
		return
	}
	_, _ = c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	_ = c.bw.Flush()
}
