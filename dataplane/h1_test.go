package dataplane

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
)

// countedBackend is an httptest server that counts the connections it accepts.
func countedBackend(t testing.TB, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// rawBackend answers each connection with handle, for responses net/http
// would not send. It returns the listening address.
func rawBackend(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c)
			})
		}
	})
	return ln.Addr().String()
}

// pushRoute routes every path to one EDS cluster "b" at addr.
func (e *env) pushRoute(addr string) {
	e.t.Helper()
	e.push(resources{
		listeners: []types.Resource{httpListener(e.t, "http", e.port, "rc")},
		routes:    []types.Resource{routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "b")))},
		clusters:  []types.Resource{edsCluster("b")},
		endpoints: []types.Resource{cla("b", addr)},
	})
}

// get sends a request and returns status and body, failing the test on error.
func (e *env) get(method, path string, body io.Reader) (*http.Response, string) {
	e.t.Helper()
	resp := e.do(method, "", path, nil, body)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, string(b)
}

func TestH1ConnectionReuse(t *testing.T) {
	e := newEnv(t)
	srv, conns := countedBackend(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	e.pushRoute(hostPort(srv))
	for i := range 50 {
		if resp, body := e.get("GET", "/", nil); resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d upstream connections for 50 sequential requests, want 1", n)
	}
}

func TestH1ChunkedResponse(t *testing.T) {
	e := newEnv(t)
	srv, conns := countedBackend(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		_, _ = io.WriteString(w, "hello")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, " world")
		w.Header().Set("X-Sum", "42")
	})
	e.pushRoute(hostPort(srv))
	for range 2 {
		resp, body := e.get("GET", "/", nil)
		if body != "hello world" || resp.Trailer.Get("X-Sum") != "42" || resp.ContentLength != -1 {
			t.Fatalf("body %q trailer %v length %d", body, resp.Trailer, resp.ContentLength)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d upstream connections, want 1: a chunked response leaves the connection reusable", n)
	}
}

// readRequestHead consumes one request (head and Content-Length body).
func readRequestHead(br *bufio.Reader) (*http.Request, error) {
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, req.Body)
	return req, err
}

func TestH1CloseDelimitedResponse(t *testing.T) {
	e := newEnv(t)
	var conns atomic.Int32
	addr := rawBackend(t, func(c net.Conn) {
		conns.Add(1)
		if _, err := readRequestHead(bufio.NewReader(c)); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
	})
	e.pushRoute(addr)
	for range 2 {
		if resp, body := e.get("GET", "/", nil); resp.StatusCode != 200 || body != "until the end" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d upstream connections, want 2: a close-delimited response cannot be followed", n)
	}
}

func TestH1HeadAndNoContent(t *testing.T) {
	e := newEnv(t)
	srv, conns := countedBackend(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/none":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Content-Length", "5")
			_, _ = io.WriteString(w, "hello")
		}
	})
	e.pushRoute(hostPort(srv))
	resp, body := e.get("HEAD", "/", nil)
	if resp.StatusCode != 200 || body != "" || resp.ContentLength != 5 {
		t.Fatalf("HEAD: %d %q length %d", resp.StatusCode, body, resp.ContentLength)
	}
	if resp, body = e.get("GET", "/none", nil); resp.StatusCode != 204 || body != "" {
		t.Fatalf("204: %d %q", resp.StatusCode, body)
	}
	if resp, body = e.get("GET", "/", nil); resp.StatusCode != 200 || body != "hello" {
		t.Fatalf("GET after HEAD and 204: %d %q", resp.StatusCode, body)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d upstream connections, want 1", n)
	}
}

// TestH1StaleConnection closes the pooled connection from the backend side
// between requests: the next request, idempotent or not, still succeeds.
func TestH1StaleConnection(t *testing.T) {
	e := newEnv(t)
	srv, conns := countedBackend(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, r.Method+" "+string(b))
	})
	e.pushRoute(hostPort(srv))
	for i, c := range []struct{ method, body string }{{"GET", ""}, {"GET", ""}, {"POST", "payload"}, {"POST", "again"}} {
		if resp, body := e.get(c.method, "/", strings.NewReader(c.body)); resp.StatusCode != 200 || body != c.method+" "+c.body {
			t.Fatalf("request %d (%s): %d %q", i, c.method, resp.StatusCode, body)
		}
		srv.CloseClientConnections()
		time.Sleep(20 * time.Millisecond) // the close reaches the pooled connection
	}
	if n := conns.Load(); n != 4 {
		t.Fatalf("%d upstream connections, want 4", n)
	}
}

// TestH1EarlyResponse has the backend answer without reading a large body.
func TestH1EarlyResponse(t *testing.T) {
	e := newEnv(t)
	srv, _ := countedBackend(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = io.WriteString(w, "too large")
	})
	e.pushRoute(hostPort(srv))
	for _, size := range []int{100, 4 << 20} {
		resp, body := e.get("POST", "/", bytes.NewReader(make([]byte, size)))
		if resp.StatusCode != http.StatusRequestEntityTooLarge || body != "too large" {
			t.Fatalf("%d-byte body: %d %q", size, resp.StatusCode, body)
		}
	}
}

// TestH1RequestBodies forwards bodies of known and unknown length, small
// (written with the head) and large (written while the response is read).
func TestH1RequestBodies(t *testing.T) {
	e := newEnv(t)
	type got struct {
		body    []byte
		chunked bool
	}
	seenc := make(chan got, 1)
	srv, _ := countedBackend(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seenc <- got{b, len(r.TransferEncoding) > 0}
	})
	e.pushRoute(hostPort(srv))
	for _, size := range []int{10, 1 << 20} {
		want := make([]byte, size)
		_, _ = rand.Read(want)
		for _, chunked := range []bool{false, true} {
			var body io.Reader = bytes.NewReader(want)
			if chunked {
				body = io.MultiReader(body) // no length: the client sends it chunked
			}
			if resp, _ := e.get("POST", "/", body); resp.StatusCode != 200 {
				t.Fatalf("%d bytes, chunked %v: status %d", size, chunked, resp.StatusCode)
			}
			g := <-seenc
			if !bytes.Equal(g.body, want) || g.chunked != chunked {
				t.Fatalf("%d bytes, chunked %v: backend got %d bytes (equal %v), chunked %v",
					size, chunked, len(g.body), bytes.Equal(g.body, want), g.chunked)
			}
		}
	}
}

// TestH1ClientDisconnect has the client go away mid-response: the proxy
// closes the upstream connection rather than pool it.
func TestH1ClientDisconnect(t *testing.T) {
	e := newEnv(t)
	upstreamGone := make(chan struct{})
	srv, conns := countedBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stream" {
			_, _ = io.WriteString(w, "ok")
			return
		}
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done(): // the proxy closed the connection
			close(upstreamGone)
		case <-time.After(5 * time.Second):
		}
	})
	e.pushRoute(hostPort(srv))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:"+itoa(e.port)+"/stream", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-upstreamGone:
	case <-time.After(3 * time.Second):
		t.Fatal("upstream connection still open after the client went away")
	}
	if _, body := e.get("GET", "/", nil); body != "ok" {
		t.Fatalf("next request: %q", body)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d upstream connections, want 2: the aborted one is not reused", n)
	}
}
