package dataplane

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// withHCM edits the HTTP connection manager of a listener built by httpListener.
func withHCM(t testing.TB, l *listenerv3.Listener, edit func(*hcmv3.HttpConnectionManager)) *listenerv3.Listener {
	f := l.FilterChains[0].Filters[0]
	hcm := &hcmv3.HttpConnectionManager{}
	if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	edit(hcm)
	f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)}
	return l
}

// stalledPost sends a POST that promises 100 bytes of body, sends 10 and
// stops, then returns the status line it gets and how long that took.
func stalledPost(t *testing.T, port int, path string) (string, time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := c.Write([]byte("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("%s: no answer to a stalled body: %v", path, err)
	}
	return strings.TrimSpace(line), time.Since(start)
}

func TestStalledBodyIsTimedOut(t *testing.T) {
	e := newEnv(t)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
	}))
	defer be.Close()
	timeout := func(d time.Duration) func(*routev3.RouteAction) {
		return func(a *routev3.RouteAction) { a.Timeout = durationpb.New(d) }
	}
	retried := func(a *routev3.RouteAction) {
		a.Timeout = durationpb.New(300 * time.Millisecond)
		a.RetryPolicy = &routev3.RetryPolicy{RetryOn: "5xx", NumRetries: wrapperspb.UInt32(1)}
	}
	rc := routeConfig("rc", vhost("v", []string{"*"},
		withAction(prefixRoute("/route-streamed", "a"), timeout(300*time.Millisecond)),
		withAction(prefixRoute("/route-buffered", "a"), retried),
		withAction(prefixRoute("/idle", "a"), timeout(0)),
	))
	r := e.basic(rc, map[string]*httptest.Server{"a": be})
	r.listeners[0] = withHCM(t, r.listeners[0].(*listenerv3.Listener), func(h *hcmv3.HttpConnectionManager) {
		h.StreamIdleTimeout = durationpb.New(time.Second)
	})
	e.push(r)
	for _, tc := range []struct {
		path, want string
		atLeast    time.Duration
	}{
		{"/route-streamed", "HTTP/1.1 504 Gateway Timeout", 300 * time.Millisecond},
		{"/route-buffered", "HTTP/1.1 504 Gateway Timeout", 300 * time.Millisecond},
		{"/idle", "HTTP/1.1 408 Request Timeout", time.Second},
	} {
		got, took := stalledPost(t, e.port, tc.path)
		if got != tc.want || took < tc.atLeast || took > tc.atLeast+2*time.Second {
			t.Errorf("%s: %q after %s, want %q after about %s", tc.path, got, took, tc.want, tc.atLeast)
		}
	}
	// A body that keeps arriving, slower than the idle timeout in all but
	// faster between reads, is not cut.
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(e.port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("POST /idle HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n"))
	for range 4 {
		time.Sleep(400 * time.Millisecond)
		_, _ = c.Write([]byte("x"))
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, _ := bufio.NewReader(c).ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Errorf("a slow but steady body: %q", line)
	}
}

func TestMalformedBodyIs400(t *testing.T) {
	e := newEnv(t)
	be := backend(t, "a")
	e.push(e.basic(routeConfig("rc", vhost("v", []string{"*"}, prefixRoute("/", "a"))), map[string]*httptest.Server{"a": be}))
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(e.port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = c.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n"))
	if line, _ := bufio.NewReader(c).ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 400") {
		t.Errorf("a malformed chunked body: %q, want 400", line)
	}
}
