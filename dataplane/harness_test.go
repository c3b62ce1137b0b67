package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	server "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"github.com/gluon-gateway/gluon/dataplane/internal/guard"
)

const testNode = "test-node"

func testLogger() *slog.Logger {
	level := slog.LevelError
	if os.Getenv("DATAPLANE_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// testCP is a real go-control-plane ADS server on loopback that records the
// NACKs it receives.
type testCP struct {
	cache cache.SnapshotCache
	grpc  *grpc.Server
	addr  string

	mu    sync.Mutex
	nacks []*discovery.DiscoveryRequest
}

func startCP(t testing.TB, addr string) *testCP {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cp := &testCP{cache: cache.NewSnapshotCache(true, cache.IDHash{}, nil), addr: ln.Addr().String()}
	cb := server.CallbackFuncs{StreamRequestFunc: func(_ int64, req *discovery.DiscoveryRequest) error {
		if req.GetErrorDetail() != nil {
			cp.mu.Lock()
			cp.nacks = append(cp.nacks, req)
			cp.mu.Unlock()
		}
		return nil
	}}
	cp.grpc = grpc.NewServer()
	discovery.RegisterAggregatedDiscoveryServiceServer(cp.grpc, server.NewServer(context.Background(), cp.cache, cb))
	go func() { _ = cp.grpc.Serve(ln) }()
	t.Cleanup(cp.grpc.Stop)
	return cp
}

func (cp *testCP) nackList() []*discovery.DiscoveryRequest {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]*discovery.DiscoveryRequest(nil), cp.nacks...)
}

func (cp *testCP) set(t testing.TB, version string, r resources) {
	t.Helper()
	snap, err := cache.NewSnapshot(version, map[resourcev3.Type][]types.Resource{
		resourcev3.ClusterType:  r.clusters,
		resourcev3.EndpointType: r.endpoints,
		resourcev3.ListenerType: r.listeners,
		resourcev3.RouteType:    r.routes,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Consistent(); err != nil {
		t.Fatal(err)
	}
	if err := cp.cache.SetSnapshot(context.Background(), testNode, snap); err != nil {
		t.Fatal(err)
	}
}

// env is a control plane, a running data plane and one listener port.
type env struct {
	t       testing.TB
	cp      *testCP
	dp      *DataPlane
	port    int
	version int
	client  *http.Client
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, cp: startCP(t, "127.0.0.1:0"), port: freePort(t)}
	e.dp = New(Options{XDSAddress: e.cp.addr, NodeID: testNode, Proxy: "gateway-proxy", Logger: testLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.dp.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	e.client = &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		// Redirects are asserted, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(e.client.CloseIdleConnections)
	return e
}

// freePort is a port free now, below Linux's ephemeral range (32768 and
// up): a port from that range may be taken as the local port of any
// outgoing connection (the tests make many) before the data plane binds it.
func freePort(t testing.TB) int {
	t.Helper()
	for range 100 {
		port := 10000 + rand.IntN(22000)
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			ln.Close()
			return port
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}

// push sets the next snapshot and waits until the data plane has accepted
// every type the snapshot holds.
func (e *env) push(r resources) string {
	e.t.Helper()
	e.version++
	v := "v" + strconv.Itoa(e.version)
	e.cp.set(e.t, v, r)
	e.waitVersions(v, r)
	return v
}

func (e *env) waitVersions(v string, r resources) {
	e.t.Helper()
	want := []string{resourcev3.ClusterType, resourcev3.ListenerType}
	if len(r.endpoints) > 0 {
		want = append(want, resourcev3.EndpointType)
	}
	if len(r.routes) > 0 {
		want = append(want, resourcev3.RouteType)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := e.dp.Status()
		done := true
		for _, typ := range want {
			done = done && st.Versions[typ] == v
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for versions %s: connected %v, versions %v, last NACK %+v", v, st.Connected, st.Versions, st.LastNACK)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-e.dp.Ready():
	case <-time.After(5 * time.Second):
		e.t.Fatal("data plane not ready")
	}
}

// refusingAddr returns a loopback address that refuses connections: a socket
// is bound to it but never listens. Unlike a port found free and closed, no
// server started meanwhile (by this or another test binary) can take it.
func refusingAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get sends a request through the data plane; host may be empty.
func (e *env) do(method, host, path string, hdr http.Header, body io.Reader) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("http://127.0.0.1:%d%s", e.port, path), body)
	if err != nil {
		e.t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s%s: %v", method, host, path, err)
	}
	return resp
}

// seen is what a test backend reports about the request it received.
type seen struct {
	Backend string      `json:"backend"`
	Method  string      `json:"method"`
	URI     string      `json:"uri"`
	Host    string      `json:"host"`
	Proto   string      `json:"proto"`
	Header  http.Header `json:"header"`
	Body    string      `json:"body"`
}

// call sends a request and decodes the backend's report; it fails the test
// unless the status is want.
func (e *env) call(method, host, path string, hdr http.Header, want int) (seen, *http.Response) {
	e.t.Helper()
	resp := e.do(method, host, path, hdr, nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s%s: status %d (%s), want %d", method, host, path, resp.StatusCode, b, want)
	}
	var s seen
	if resp.StatusCode == 200 && resp.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(b, &s); err != nil {
			e.t.Fatalf("decoding %q: %v", b, err)
		}
	} else {
		s.Body = string(b)
	}
	return s, resp
}

// backend is a loopback HTTP server that reports what it received.
func backend(t testing.TB, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(echoHandler(name))
	t.Cleanup(srv.Close)
	return srv
}

func echoHandler(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", name)
		_ = json.NewEncoder(w).Encode(seen{Backend: name, Method: r.Method, URI: r.RequestURI, Host: r.Host, Proto: r.Proto, Header: r.Header, Body: string(body)})
	}
}

func hostPort(srv *httptest.Server) string { return srv.Listener.Addr().String() }

// basic is a snapshot with one listener on e.port, route config "rc" and
// one EDS cluster per backend.
func (e *env) basic(rc *routev3.RouteConfiguration, backends map[string]*httptest.Server) resources {
	r := resources{
		listeners: []types.Resource{httpListener(e.t, "http", e.port, rc.Name)},
		routes:    []types.Resource{rc},
	}
	for name, srv := range backends {
		r.clusters = append(r.clusters, edsCluster(name))
		r.endpoints = append(r.endpoints, cla(name, hostPort(srv)))
	}
	return r
}

// testGuard recovers panics quietly, counting them.
func testGuard() guard.Guard {
	return guard.Guard{Log: slog.New(slog.DiscardHandler), Count: new(atomic.Uint64)}
}
