package upstream

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strings"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

const (
	// maxResponseHead bounds the status line and headers of a response (and
	// a chunked body's trailers), like Envoy's max_response_headers_kb (60 KiB).
	maxResponseHead = 60 << 10
	// max1xx bounds the informational responses skipped before the final one.
	max1xx = 5
)

// readResponse reads the response head and frames its body (RFC 9112 §6.3).
// Informational responses are skipped: the downstream server answers
// 100-continue itself, and the proxy never asks for an upgrade.
func (c *h1Conn) readResponse(method string) (*http.Response, error) {
	// The limit counts bytes read from the socket, so it allows for one
	// buffer of body read along with the head.
	c.headLeft = h1.HeadLimit(maxResponseHead + h1.BufferSize)
	defer func() { c.headLeft = 0 }()
	if _, err := c.BR.Peek(1); err != nil {
		return nil, c.staleOr(fmt.Errorf("reading upstream response: %w", err))
	}
	resp := &c.resp
	if c.header == nil {
		c.header = http.Header{}
	}
	for n := 0; ; n++ {
		line, err := c.ReadLine()
		if err != nil {
			return nil, fmt.Errorf("reading upstream status line: %w", err)
		}
		if err := parseStatusLine(resp, line); err != nil {
			return nil, err
		}
		if err := c.ReadHeader(c.header); err != nil {
			return nil, fmt.Errorf("upstream response: %w", err)
		}
		if resp.StatusCode >= 200 {
			break
		}
		if resp.StatusCode == http.StatusSwitchingProtocols || n == max1xx {
			return nil, fmt.Errorf("unexpected upstream response %d", resp.StatusCode)
		}
		clear(c.header)
	}
	resp.Header = c.header
	return resp, c.frameBody(resp, method)
}

// parseStatusLine reads "HTTP/1.x NNN reason".
func parseStatusLine(resp *http.Response, line []byte) error {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || len(line) > 12 && line[12] != ' ' {
		return fmt.Errorf("malformed upstream status line %q", line)
	}
	switch line[7] {
	case '0':
		resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.0", 1, 0
	case '1':
		resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.1", 1, 1
	default:
		return fmt.Errorf("unsupported upstream protocol %q", line[:8])
	}
	code := 0
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return fmt.Errorf("malformed upstream status code %q", line[9:12])
		}
		code = code*10 + int(d-'0')
	}
	if code < 100 {
		return fmt.Errorf("malformed upstream status code %q", line[9:12])
	}
	resp.StatusCode = code
	return nil
}

type bodyFraming uint8

const (
	bodyLength  bodyFraming = iota // Content-Length, or no body at all
	bodyChunked                    // Transfer-Encoding: chunked
	bodyClose                      // delimited by the endpoint closing the connection
)

// frameBody decides how the body is delimited and whether the connection can
// carry another request afterwards, as net/http's Transport does.
func (c *h1Conn) frameBody(resp *http.Response, method string) error {
	h := resp.Header
	b := &c.body
	*b = h1Body{c: c}
	if resp.ProtoMinor == 0 {
		b.keepAlive = h1.ContainsToken(h["Connection"], "keep-alive")
	} else {
		b.keepAlive = !h1.ContainsToken(h["Connection"], "close")
	}
	te := h["Transfer-Encoding"]
	switch {
	case method == http.MethodHead || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified:
		b.done = true
	case len(te) > 0 && resp.ProtoMinor == 1:
		if len(te) != 1 || !strings.EqualFold(strings.TrimSpace(te[0]), "chunked") {
			return fmt.Errorf("unsupported upstream transfer encoding %q", te)
		}
		// The length is the chunks'; trailers are read at the end of the body.
		delete(h, "Transfer-Encoding")
		delete(h, "Content-Length")
		delete(h, "Trailer")
		b.framing, b.chunked, resp.ContentLength = bodyChunked, httputil.NewChunkedReader(c.BR), -1
	case len(h["Content-Length"]) > 0:
		n, err := h1.ContentLength(h)
		if err != nil {
			return fmt.Errorf("upstream response: %w", err)
		}
		b.remaining, b.done, resp.ContentLength = n, n == 0, n
	default:
		b.framing, b.keepAlive, resp.ContentLength = bodyClose, false, -1
	}
	resp.Body = b
	return nil
}

// h1Body is the body of an upstream response. Closing it hands the
// connection back: to its pool when the body was read to its end and both
// sides keep the connection alive, otherwise it is closed.
type h1Body struct {
	c         *h1Conn // nil once closed
	framing   bodyFraming
	remaining int64     // bodyLength: bytes still to come
	chunked   io.Reader // bodyChunked: the chunk decoder over c.BR
	keepAlive bool
	done      bool // read to its end
	err       error
}

func (b *h1Body) Read(p []byte) (int, error) {
	switch {
	case b.c == nil:
		return 0, http.ErrBodyReadAfterClose
	case b.done:
		return 0, io.EOF
	case b.err != nil:
		return 0, b.err
	}
	var n int
	var err error
	switch b.framing {
	case bodyLength:
		if int64(len(p)) > b.remaining {
			p = p[:b.remaining]
		}
		n, err = b.c.BR.Read(p)
		if b.remaining -= int64(n); b.remaining == 0 {
			b.done, err = true, nil
		} else if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	case bodyChunked:
		n, err = b.chunked.Read(p)
		if err == io.EOF {
			if err = b.c.readTrailer(); err == nil {
				b.done = true
			}
		}
	case bodyClose:
		n, err = b.c.BR.Read(p)
		b.done = err == io.EOF
	}
	if err != nil && !b.done {
		b.err = err
	}
	return n, err
}

func (b *h1Body) Close() error {
	if c := b.c; c != nil {
		b.c = nil
		c.done(b.done && b.keepAlive)
	}
	return nil
}

// readTrailer reads the trailer section that ends a chunked body into the
// response's Trailer.
func (c *h1Conn) readTrailer() error {
	if p, err := c.BR.Peek(2); err == nil && p[0] == '\r' && p[1] == '\n' {
		_, _ = c.BR.Discard(2)
		return nil
	}
	c.headLeft = h1.HeadLimit(maxResponseHead + h1.BufferSize)
	defer func() { c.headLeft = 0 }()
	t := http.Header{}
	if err := c.ReadHeader(t); err != nil {
		return fmt.Errorf("reading upstream trailers: %w", err)
	}
	c.resp.Trailer = t
	return nil
}
