package downstream

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startDownstream serves h on a loopback port with Gluon's downstream server.
func startDownstream(t *testing.T, h http.HandlerFunc) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(h, testGuard())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return s, ln.Addr().String()
}

// rawConn is a client connection that writes raw bytes and reads responses.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatal(err)
	}
}

// response reads one response to a request with the given method; its body
// is read whole.
func (r *rawConn) response(method string) (*http.Response, string) {
	r.t.Helper()
	resp, err := http.ReadResponse(r.br, &http.Request{Method: method})
	if err != nil {
		r.t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("reading body: %v", err)
	}
	return resp, string(b)
}

// closed asserts that the server closed the connection.
func (r *rawConn) closed() {
	r.t.Helper()
	if n, err := r.br.Read(make([]byte, 1)); err == nil {
		r.t.Fatalf("connection still open: read %d bytes", n)
	}
}

func echoPath(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	_, _ = io.WriteString(w, r.Method+" "+r.RequestURI+" "+string(body))
}

func TestDownstreamKeepAliveAndPipelining(t *testing.T) {
	_, addr := startDownstream(t, echoPath)
	c := dialRaw(t, addr)
	c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{"GET /a ", "POST /b abc", "GET /c "} {
		resp, body := c.response("GET")
		if body != want || resp.ContentLength != int64(len(want)) || resp.Close {
			t.Fatalf("got %q (length %d, close %v), want %q with its length, kept alive", body, resp.ContentLength, resp.Close, want)
		}
		if resp.Header.Get("Date") == "" {
			t.Error("no Date header")
		}
	}
}

func TestDownstreamResponseFraming(t *testing.T) {
	big := strings.Repeat("x", deferredBodyMax+1)
	_, addr := startDownstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small":
			_, _ = io.WriteString(w, "small")
		case "/big":
			_, _ = io.WriteString(w, big)
		case "/flushed":
			_, _ = io.WriteString(w, "part1")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "part2")
			w.Header().Set(http.TrailerPrefix+"X-Checksum", "42")
		case "/declared":
			w.Header().Set("Content-Length", "4")
			_, err := io.WriteString(w, "toolong")
			_, _ = io.WriteString(w, "|"+strconv.FormatBool(errors.Is(err, http.ErrContentLength)))
		case "/empty":
			w.WriteHeader(http.StatusFound)
		case "/nocontent":
			w.Header().Set("Content-Length", "10")
			w.WriteHeader(http.StatusNoContent)
			_, err := io.WriteString(w, "dropped")
			if !errors.Is(err, http.ErrBodyNotAllowed) {
				t.Errorf("write on 204: %v, want ErrBodyNotAllowed", err)
			}
		}
	})
	c := dialRaw(t, addr)
	check := func(path string, wantBody string, wantLength int64, wantChunked bool) *http.Response {
		t.Helper()
		c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, body := c.response("GET")
		chunked := len(resp.TransferEncoding) > 0 && resp.TransferEncoding[0] == "chunked"
		if body != wantBody || resp.ContentLength != wantLength || chunked != wantChunked {
			t.Fatalf("%s: body %.20q (%d bytes), length %d, chunked %v; want %.20q, %d, %v",
				path, body, len(body), resp.ContentLength, chunked, wantBody, wantLength, wantChunked)
		}
		return resp
	}
	check("/small", "small", 5, false)
	check("/big", big, -1, true)
	if resp := check("/flushed", "part1part2", -1, true); resp.Trailer.Get("X-Checksum") != "42" {
		t.Errorf("trailer X-Checksum = %q, want 42", resp.Trailer.Get("X-Checksum"))
	}
	check("/declared", "tool", 4, false) // the rest is refused, and the connection stays usable
	check("/empty", "", 0, false)
	if resp := check("/nocontent", "", 0, false); resp.StatusCode != http.StatusNoContent || resp.Header.Get("Content-Length") != "" {
		t.Errorf("204: status %d, Content-Length %q", resp.StatusCode, resp.Header.Get("Content-Length"))
	}
}

func TestDownstreamHEAD(t *testing.T) {
	_, addr := startDownstream(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "11")
		_, _ = io.WriteString(w, "hello world")
	})
	c := dialRaw(t, addr)
	c.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := c.response("HEAD"); resp.ContentLength != 11 || body != "" {
		t.Fatalf("HEAD: length %d body %q, want 11 and no body", resp.ContentLength, body)
	}
	if _, body := c.response("GET"); body != "hello world" {
		t.Fatalf("GET after HEAD: %q", body)
	}
}

func TestDownstreamHTTP10(t *testing.T) {
	_, addr := startDownstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hi")
		if r.URL.Path == "/stream" {
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, " there")
		}
	})
	c := dialRaw(t, addr)
	c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	if resp, body := c.response("GET"); body != "hi" || resp.Close || resp.Header.Get("Connection") != "keep-alive" {
		t.Fatalf("1.0 keep-alive: body %q close %v Connection %q", body, resp.Close, resp.Header.Get("Connection"))
	}
	c.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	if resp, body := c.response("GET"); body != "hi there" || !resp.Close || len(resp.TransferEncoding) > 0 {
		t.Fatalf("1.0 stream: body %q close %v TE %v, want close-delimited", body, resp.Close, resp.TransferEncoding)
	}
	c.closed()

	c = dialRaw(t, addr)
	c.send("GET / HTTP/1.0\r\n\r\n")
	if resp, _ := c.response("GET"); !resp.Close {
		t.Fatal("1.0 without keep-alive: connection not closed")
	}
	c.closed()
}

func TestDownstreamBadRequests(t *testing.T) {
	_, addr := startDownstream(t, func(http.ResponseWriter, *http.Request) {
		t.Error("handler called for a bad request")
	})
	for name, tc := range map[string]struct {
		req  string
		want int
	}{
		"no host":             {"GET / HTTP/1.1\r\n\r\n", http.StatusBadRequest},
		"two hosts":           {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", http.StatusBadRequest},
		"bad host":            {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", http.StatusBadRequest},
		"bad header name":     {"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", http.StatusBadRequest},
		"conflicting lengths": {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", http.StatusBadRequest},
		"unknown coding":      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", http.StatusNotImplemented},
		"length and chunked":  {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", http.StatusBadRequest},
		"chunked in 1.0":      {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", http.StatusBadRequest},
		"signed length":       {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -0\r\n\r\n", http.StatusBadRequest},
		"bad request line":    {"GET /\r\n\r\n", http.StatusBadRequest},
		"bad target":          {"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", http.StatusBadRequest},
		"HTTP/3":              {"GET / HTTP/3.0\r\nHost: a\r\n\r\n", http.StatusHTTPVersionNotSupported},
		"head too large":      {"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", maxRequestHeadBytes) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, addr)
			c.send(tc.req)
			resp, _ := c.response("GET")
			if resp.StatusCode != tc.want || !resp.Close {
				t.Fatalf("status %d close %v, want %d and close", resp.StatusCode, resp.Close, tc.want)
			}
			c.closed()
		})
	}
}

// A head just under the limit is served even when its body arrives with
// it: reading the body's first bytes along with the head must not count
// as a head over the limit.
func TestDownstreamHeadNearLimitWithBody(t *testing.T) {
	_, addr := startDownstream(t, echoPath)
	start := "POST /near HTTP/1.1\r\nHost: a\r\nContent-Length: 8192\r\nX-Big: "
	end := "\r\n\r\n"
	pad := strings.Repeat("b", maxRequestHeadBytes-100-len(start)-len(end))
	body := strings.Repeat("x", 8192)
	c := dialRaw(t, addr)
	c.send(start + pad + end + body)
	resp, got := c.response("POST")
	if resp.StatusCode != http.StatusOK || got != "POST /near "+body {
		t.Fatalf("status %d, body of %d bytes; want 200 and the echoed body", resp.StatusCode, len(got))
	}
}

func TestDownstreamExpectContinue(t *testing.T) {
	_, addr := startDownstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ignore" {
			_, _ = io.WriteString(w, "not reading")
			return
		}
		echoPath(w, r)
	})
	c := dialRaw(t, addr)
	c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
	if resp, _ := c.response("POST"); resp.StatusCode != http.StatusContinue {
		t.Fatalf("first response %d, want 100 Continue", resp.StatusCode)
	}
	c.send("body")
	if _, body := c.response("POST"); body != "POST /echo body" {
		t.Fatalf("body %q", body)
	}

	// A handler that answers without reading: no 100 Continue, and the
	// connection closes instead of waiting for a body the client holds back.
	c.send("POST /ignore HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
	if resp, body := c.response("POST"); resp.StatusCode != http.StatusOK || body != "not reading" {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
	c.closed()

	c = dialRaw(t, addr)
	c.send("POST / HTTP/1.1\r\nHost: x\r\nExpect: something\r\nContent-Length: 1\r\n\r\n")
	if resp, _ := c.response("POST"); resp.StatusCode != http.StatusExpectationFailed {
		t.Fatalf("unknown expectation: %d, want 417", resp.StatusCode)
	}
}

func TestDownstreamUnreadBody(t *testing.T) {
	_, addr := startDownstream(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	c := dialRaw(t, addr)
	// A small unread body is drained: the connection carries the next request.
	c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: x\r\n\r\n")
	c.response("POST")
	if _, body := c.response("GET"); body != "ok" {
		t.Fatalf("after a drained body: %q", body)
	}
	// One over maxDrainBytes closes the connection after the response.
	c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(maxDrainBytes+100) + "\r\n\r\n")
	go func() { _, _ = c.c.Write(make([]byte, maxDrainBytes+100)) }()
	if resp, _ := c.response("POST"); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	c.closed()
}

// TestDownstreamEarlyResponseLingers answers before reading a body too
// large to drain. The connection then reads until the client is done, so
// the client's writes never meet a reset, which could destroy the response
// before it is read.
func TestDownstreamEarlyResponseLingers(t *testing.T) {
	_, addr := startDownstream(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = io.WriteString(w, "too large")
	})
	c := dialRaw(t, addr)
	const size = 16 << 20 // more than socket buffers hold
	c.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n")
	if _, err := c.c.Write(make([]byte, size)); err != nil {
		t.Fatalf("writing the body the server did not wait for: %v", err)
	}
	if resp, body := c.response("POST"); resp.StatusCode != http.StatusRequestEntityTooLarge || body != "too large" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	c.closed()
}

func TestDownstreamHandlerPanics(t *testing.T) {
	_, addr := startDownstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		if r.URL.Path == "/abort" {
			panic(http.ErrAbortHandler)
		}
		panic("bug")
	})
	for _, path := range []string{"/abort", "/bug"} {
		c := dialRaw(t, addr)
		c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The body stops without its last chunk: the client sees an error,
		// never a complete response.
		if b, err := io.ReadAll(resp.Body); err == nil {
			t.Fatalf("%s: body %q read without error", path, b)
		}
	}
}

func TestDownstreamClientGoneCancelsContext(t *testing.T) {
	canceled := make(chan error, 1)
	_, addr := startDownstream(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			canceled <- r.Context().Err()
		case <-time.After(5 * time.Second):
			canceled <- nil
		}
	})
	c := dialRaw(t, addr)
	c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(50 * time.Millisecond)
	c.c.Close()
	if err := <-canceled; !errors.Is(err, context.Canceled) {
		t.Fatalf("context error %v, want Canceled once the client left", err)
	}
}

func TestDownstreamShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	s, addr := startDownstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
		}
		_, _ = io.WriteString(w, "done")
	})
	idle := dialRaw(t, addr)
	idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	idle.response("GET")
	busy := dialRaw(t, addr)
	busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	<-started

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- s.Shutdown(ctx)
	}()
	idle.closed() // closed at once, with nothing in flight
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if resp, body := busy.response("GET"); body != "done" || !resp.Close {
		t.Fatalf("in-flight request: body %q close %v, want done and Connection: close", body, resp.Close)
	}
	busy.closed()
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
