package downstream

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

// parseRequestHead reads a request line and header block and frames the
// body (RFC 9112 §6), as strictly as Envoy's HTTP/1 codec: a request with
// both Content-Length and Transfer-Encoding, several differing
// Content-Lengths, or a transfer coding other than chunked is refused, so
// no two readers can disagree on where the body ends. It costs a few
// allocations where http.ReadRequest costs nine (see h1.HeadReader).
func (c *downstreamConn) parseRequestHead() (*http.Request, error) {
	line, err := c.ReadLine()
	if err != nil {
		return nil, err
	}
	req := &http.Request{Header: http.Header{}, RemoteAddr: c.remoteAddr}
	if err := parseRequestLine(req, line); err != nil {
		return nil, err
	}
	spelled, err := c.ReadRequestHeader(req.Header)
	if err != nil {
		return nil, err
	}
	c.spelled = spelled
	if err := setRequestHost(req); err != nil {
		return nil, err
	}
	if err := c.frameRequestBody(req); err != nil {
		return nil, err
	}
	conn := req.Header["Connection"]
	req.Close = req.ProtoMinor == 0 && !h1.ContainsToken(conn, "keep-alive") || h1.ContainsToken(conn, "close")
	return req, nil
}

// parseRequestLine reads "METHOD target HTTP/1.x" into req.
func parseRequestLine(req *http.Request, line []byte) error {
	method, rest, ok1 := bytes.Cut(line, []byte(" "))
	target, version, ok2 := bytes.Cut(rest, []byte(" "))
	switch {
	case !ok1 || !ok2 || len(target) == 0 || !httpguts.ValidHeaderFieldName(string(method)) ||
		bytes.ContainsFunc(target, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return badRequest(http.StatusBadRequest, "malformed request line %q", line)
	case string(version) == "HTTP/1.1":
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	case string(version) == "HTTP/1.0":
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.0", 1, 0
	case len(version) == 8 && bytes.HasPrefix(version, []byte("HTTP/")) && version[6] == '.':
		return badRequest(http.StatusHTTPVersionNotSupported, "unsupported protocol %s", version)
	default:
		return badRequest(http.StatusBadRequest, "malformed request line %q", line)
	}
	req.Method = internMethod(method)
	req.RequestURI = string(target)
	authority := req.Method == http.MethodConnect && req.RequestURI[0] != '/'
	raw := req.RequestURI
	if authority {
		raw = "http://" + raw // parsed as a URL's authority, as net/http does
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil {
		return badRequest(http.StatusBadRequest, "malformed request target: %w", err)
	}
	if authority {
		u.Scheme = ""
	}
	req.URL = u
	return nil
}

var commonMethods = []string{
	http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead,
	http.MethodOptions, http.MethodPatch, http.MethodConnect, http.MethodTrace,
}

// internMethod returns the method as a string, without allocating for the
// standard ones.
func internMethod(m []byte) string {
	for _, s := range commonMethods {
		if string(m) == s {
			return s
		}
	}
	return string(m)
}

// setRequestHost takes the authority from the target when absolute, else
// from the single Host header, which HTTP/1.1 requires (RFC 9112 §3.2);
// like Envoy, Gluon also refuses an empty one, since routing needs it.
func setRequestHost(req *http.Request) error {
	hosts := req.Header["Host"]
	delete(req.Header, "Host")
	switch {
	case len(hosts) > 1:
		return badRequest(http.StatusBadRequest, "more than one Host header")
	case req.URL.Host != "":
		req.Host = req.URL.Host
	case len(hosts) == 1:
		req.Host = hosts[0]
	}
	switch {
	case req.Host == "" && req.ProtoMinor >= 1:
		return badRequest(http.StatusBadRequest, "missing required Host header")
	case !httpguts.ValidHostHeader(req.Host):
		return badRequest(http.StatusBadRequest, "malformed Host header %q", req.Host)
	}
	return nil
}

var chunkedCoding = []string{"chunked"}

// frameRequestBody sets the body from Content-Length or chunked framing.
func (c *downstreamConn) frameRequestBody(req *http.Request) error {
	te, chunked := req.Header["Transfer-Encoding"]
	_, sized := req.Header["Content-Length"]
	switch {
	case chunked && sized:
		return badRequest(http.StatusBadRequest, "both Content-Length and Transfer-Encoding")
	case chunked && req.ProtoMinor == 0:
		return badRequest(http.StatusBadRequest, "Transfer-Encoding in an HTTP/1.0 request")
	case chunked && (len(te) != 1 || !strings.EqualFold(te[0], "chunked")):
		return badRequest(http.StatusNotImplemented, "unsupported transfer coding %q", te)
	case chunked:
		delete(req.Header, "Transfer-Encoding")
		req.TransferEncoding, req.ContentLength = chunkedCoding, -1
		trailer, err := declaredTrailers(req.Header["Trailer"])
		if err != nil {
			return err
		}
		delete(req.Header, "Trailer")
		req.Trailer = trailer
		req.Body = &chunkedRequestBody{c: c, chunks: httputil.NewChunkedReader(c.BR), req: req}
	case sized:
		n, err := h1.ContentLength(req.Header)
		if err != nil {
			return &badRequestError{code: http.StatusBadRequest, err: err}
		}
		req.ContentLength, req.Body = n, &sizedRequestBody{r: c.BR, left: n}
	}
	if req.ContentLength == 0 {
		req.Body = http.NoBody
	}
	return nil
}

// declaredTrailers is the Trailer map of a chunked request: the declared
// names, whose values arrive after the body. Framing fields cannot be
// trailers.
func declaredTrailers(declared []string) (http.Header, error) {
	if len(declared) == 0 {
		return nil, nil
	}
	t := http.Header{}
	for name := range h1.ListedNames(declared) {
		switch name {
		case "Transfer-Encoding", "Trailer", "Content-Length":
			return nil, badRequest(http.StatusBadRequest, "%s cannot be a trailer", name)
		}
		t[name] = nil
	}
	if len(t) == 0 {
		return nil, nil
	}
	return t, nil
}

// sizedRequestBody reads a Content-Length body.
type sizedRequestBody struct {
	r    io.Reader
	left int64
}

func (b *sizedRequestBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err == nil && b.left == 0 {
		err = io.EOF
	}
	return n, err
}

func (b *sizedRequestBody) Close() error { return nil }

// chunkedRequestBody reads a chunked body and then its trailer section
// into the request's Trailer, as net/http does.
type chunkedRequestBody struct {
	c      *downstreamConn
	chunks io.Reader
	req    *http.Request
	done   bool
}

func (b *chunkedRequestBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.chunks.Read(p)
	if err == io.EOF {
		err = b.readTrailers()
		b.done = err == nil
		if err == nil {
			err = io.EOF
		}
	}
	return n, err
}

func (b *chunkedRequestBody) readTrailers() error {
	end, err := b.c.BR.Peek(2)
	switch {
	case err == io.EOF:
		return io.ErrUnexpectedEOF
	case err != nil:
		return err
	case end[0] == '\r' && end[1] == '\n':
		_, _ = b.c.BR.Discard(2)
		return nil
	}
	if !trailerEndBuffered(b.c.BR) {
		return badRequest(http.StatusBadRequest, "trailer section longer than %d bytes or not ended by CRLF CRLF", b.c.BR.Size())
	}
	got := http.Header{}
	if err := b.c.ReadHeader(got); err != nil {
		return err
	}
	if len(got) > 0 && b.req.Trailer == nil {
		b.req.Trailer = http.Header{}
	}
	for k, vv := range got {
		b.req.Trailer[k] = vv
	}
	return nil
}

func (b *chunkedRequestBody) Close() error { return nil }

// trailerEndBuffered reports whether the trailer section ends (CRLF CRLF)
// within what br can buffer: that bounds its size, as net/http does.
func trailerEndBuffered(br *bufio.Reader) bool {
	for n := 4; n <= br.Size(); n++ {
		buf, err := br.Peek(n)
		if bytes.HasSuffix(buf, []byte("\r\n\r\n")) {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}
