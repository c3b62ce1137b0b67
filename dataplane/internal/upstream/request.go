package upstream

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

// writeHead writes the request line and header block of an upstream
// request. length is the body's: -1 sends it chunked. It refuses what
// net/http's Transport refuses to send (a filter may have set any value):
// control characters in the target, an invalid Host, method or header.
func writeHead(bw *bufio.Writer, r *http.Request, target, host string, length int64) error {
	switch {
	case !httpguts.ValidHeaderFieldName(r.Method):
		return fmt.Errorf("invalid method %q", r.Method)
	case strings.ContainsFunc(target, isCTL):
		return fmt.Errorf("invalid request target %q", target)
	case !httpguts.ValidHostHeader(host):
		return fmt.Errorf("invalid host %q", host)
	}
	_, _ = bw.WriteString(r.Method)
	_ = bw.WriteByte(' ')
	_, _ = bw.WriteString(target)
	_, _ = bw.WriteString(" HTTP/1.1\r\nHost: ")
	_, _ = bw.WriteString(host)
	_, _ = bw.WriteString("\r\n")
	for k, vv := range r.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue // framing is this writer's; Host is r.Host
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("invalid header name %q", k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("invalid value for header %q", k)
			}
			_, _ = bw.WriteString(k)
			_, _ = bw.WriteString(": ")
			_, _ = bw.WriteString(v)
			_, _ = bw.WriteString("\r\n")
		}
	}
	switch {
	case length > 0 || length == 0 && bodyExpected(r.Method):
		_, _ = bw.WriteString("Content-Length: ")
		_, _ = bw.Write(strconv.AppendInt(bw.AvailableBuffer(), length, 10))
		_, _ = bw.WriteString("\r\n")
	case length < 0:
		_, _ = bw.WriteString("Transfer-Encoding: chunked\r\n")
		if len(r.Trailer) > 0 {
			_, _ = bw.WriteString("Trailer: ")
			first := true
			for k := range r.Trailer {
				if !first {
					_, _ = bw.WriteString(", ")
				}
				_, _ = bw.WriteString(k)
				first = false
			}
			_, _ = bw.WriteString("\r\n")
		}
	}
	_, err := bw.WriteString("\r\n")
	return err
}

// bodyExpected reports whether an empty body is still announced with
// "Content-Length: 0", as net/http's Transport does for these methods.
func bodyExpected(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

func isCTL(r rune) bool { return r < ' ' || r == 0x7f }

// writeBody writes the body after the head already in bw and flushes. A
// chunked body is flushed chunk by chunk, so that a streamed upload streams.
func writeBody(bw *bufio.Writer, r *http.Request, b *Body) error {
	switch {
	case b.stream == nil:
		_, _ = bw.Write(b.buf)
	case b.length >= 0:
		src := &bodySource{r: b.stream}
		n, err := io.CopyN(bw, src, b.length)
		switch {
		case src.err != nil:
			return &RequestBodyError{err: src.err}
		case errors.Is(err, io.EOF):
			return &RequestBodyError{err: fmt.Errorf("body ended after %d of %d bytes: %w", n, b.length, io.ErrUnexpectedEOF)}
		case err != nil:
			return err // writing to the endpoint failed
		}
	default:
		if err := writeChunked(bw, r, b.stream); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// bodySource reads the downstream body, keeping its read error apart from
// the upstream connection's write errors.
type bodySource struct {
	r   io.Reader
	err error
}

func (s *bodySource) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// writeChunked copies a body of unknown length as chunks, then the last
// chunk and the request's trailers.
func writeChunked(bw *bufio.Writer, r *http.Request, body io.Reader) error {
	bufp := h1.CopyBuffer()
	defer h1.PutCopyBuffer(bufp)
	buf := *bufp
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			_, _ = bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(n), 16))
			_, _ = bw.WriteString("\r\n")
			_, _ = bw.Write(buf[:n])
			_, _ = bw.WriteString("\r\n")
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return &RequestBodyError{err: rerr}
		}
	}
	_, _ = bw.WriteString("0\r\n")
	for k, vv := range r.Trailer {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("invalid trailer name %q", k)
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("invalid value for trailer %q", k)
			}
			_, _ = bw.WriteString(k)
			_, _ = bw.WriteString(": ")
			_, _ = bw.WriteString(v)
			_, _ = bw.WriteString("\r\n")
		}
	}
	_, err := bw.WriteString("\r\n")
	return err
}
