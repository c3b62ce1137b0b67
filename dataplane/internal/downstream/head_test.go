package downstream

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"reflect"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// parsedRequest is what a parser made of a request: head and whole body.
type parsedRequest struct {
	Method, RequestURI, Host, Proto string
	Close                           bool
	ContentLength                   int64
	Header, Trailer                 http.Header
	Body                            string
}

func parseWithGluon(data []byte) (*parsedRequest, error) {
	c := &downstreamConn{}
	c.BR, c.RefuseFolds = bufio.NewReader(bytes.NewReader(data)), true
	req, err := c.parseRequestHead()
	if err != nil {
		return nil, err
	}
	return readParsed(req)
}

// parseWithNetHTTP is what net/http's server accepts: http.ReadRequest and
// the server's own checks on Host and header fields.
func parseWithNetHTTP(data []byte) (*parsedRequest, error) {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, err
	}
	if req.ProtoMajor != 1 || req.ProtoMinor >= 1 && req.Host == "" && req.Method != http.MethodConnect ||
		!httpguts.ValidHostHeader(req.Host) {
		return nil, io.ErrUnexpectedEOF // refused; the reason does not matter here
	}
	for k, vv := range req.Header {
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldName(k) || !httpguts.ValidHeaderFieldValue(v) {
				return nil, io.ErrUnexpectedEOF
			}
		}
	}
	return readParsed(req)
}

func readParsed(req *http.Request) (*parsedRequest, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	return &parsedRequest{
		Method: req.Method, RequestURI: req.RequestURI, Host: req.Host, Proto: req.Proto,
		Close: req.Close, ContentLength: req.ContentLength,
		Header: req.Header, Trailer: req.Trailer, Body: string(body),
	}, nil
}

// FuzzRequestHead checks Gluon's request parser against net/http's server:
// whatever Gluon accepts, net/http accepts too and reads the same way (the
// same head, the same body, so the same place where the next request
// starts). Gluon may refuse more (both Content-Length and chunked, say).
func FuzzRequestHead(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://a:8080/p?q=1 HTTP/1.1\r\nHost: b\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
		"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-T: v\r\n\r\n",
		"PUT /p HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
		"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n", // refused
		"OPTIONS * HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\nConnection: close\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, err := parseWithGluon(data)
		if err != nil {
			return
		}
		theirs, err := parseWithNetHTTP(data)
		if err != nil {
			t.Fatalf("Gluon accepts what net/http refuses (%v):\n%q\nGluon read %+v", err, data, ours)
		}
		// net/http adds Cache-Control for Pragma: no-cache (RFC 7234 §5.4); Gluon forwards as received.
		if _, ok := ours.Header["Cache-Control"]; !ok {
			delete(theirs.Header, "Cache-Control")
		}
		// No trailers is no trailers: net/http sometimes says so with an
		// empty map (a chunked body whose trailer section is a bare LF).
		if len(ours.Trailer) == 0 && len(theirs.Trailer) == 0 {
			ours.Trailer, theirs.Trailer = nil, nil
		}
		if !reflect.DeepEqual(ours, theirs) {
			t.Fatalf("parsers disagree on\n%q\nGluon:    %+v\nnet/http: %+v", data, ours, theirs)
		}
	})
}
