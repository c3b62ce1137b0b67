package dataplane

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
)

// slowBackend answers after d, so that requests are in flight during changes.
func slowBackend(t testing.TB, d time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			_, _ = io.WriteString(w, "done")
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestListenerRemovalDrains removes a listener while a request is in flight:
// the request completes, then the port stops accepting.
func TestListenerRemovalDrains(t *testing.T) {
	e := newEnv(t)
	slow := slowBackend(t, 300*time.Millisecond)
	rc := routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "slow")))
	second := freePort(t)
	both := e.basic(rc, map[string]*httptest.Server{"slow": slow})
	both.listeners = append(both.listeners, httpListener(t, "second", second, "rc"))
	e.push(both)

	inflight := make(chan error, 1)
	go func() {
		resp, err := e.client.Get("http://127.0.0.1:" + itoa(second) + "/")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "done" {
				err = errors.New("truncated response: " + string(body))
			}
		}
		inflight <- err
	}()
	time.Sleep(100 * time.Millisecond) // let the request reach the backend
	only := both
	only.listeners = []types.Resource{both.listeners[0]}
	e.push(only)

	if err := <-inflight; err != nil {
		t.Fatalf("in-flight request on removed listener: %v", err)
	}
	waitFor(t, "port closed", func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+itoa(second), time.Second)
		if err == nil {
			c.Close()
			return false
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	e.call("GET", "", "/", nil, http.StatusOK) // the kept listener still serves
}

// TestRunShutdownIsGraceful cancels Run with a request in flight.
func TestRunShutdownIsGraceful(t *testing.T) {
	cp := startCP(t, "127.0.0.1:0")
	port := freePort(t)
	slow := slowBackend(t, 300*time.Millisecond)
	dp := New(Options{XDSAddress: cp.addr, NodeID: testNode, Proxy: "gateway-proxy", Logger: testLogger()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- dp.Run(ctx) }()
	defer cancel()

	cp.set(t, "v1", resources{
		listeners: []types.Resource{httpListener(t, "http", port, "rc")},
		routes:    []types.Resource{routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "slow")))},
		clusters:  []types.Resource{edsCluster("slow")},
		endpoints: []types.Resource{cla("slow", hostPort(slow))},
	})
	select {
	case <-dp.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("not ready")
	}
	inflight := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://127.0.0.1:" + itoa(port) + "/")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "done" {
				err = errors.New("truncated response: " + string(body))
			}
		}
		inflight <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-inflight; err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}
