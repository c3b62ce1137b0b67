package dataplane

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// resetConn closes c with a TCP reset rather than a FIN.
func resetConn(t testing.TB, c net.Conn) {
	t.Helper()
	if err := c.(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
}

// clientHangUps are the ways a client can leave that used to take the whole
// process down: a reset before a byte, a reset right after its request, and
// a close without reading the answer.
var clientHangUps = map[string]func(t testing.TB, addr string){
	"reset on connect": func(t testing.TB, addr string) {
		c := dial(t, addr)
		time.Sleep(time.Millisecond) // let the server start reading
		resetConn(t, c)
	},
	"reset after request": func(t testing.TB, addr string) {
		c := dial(t, addr)
		_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		time.Sleep(time.Millisecond)
		resetConn(t, c)
	},
	"close without reading": func(t testing.TB, addr string) {
		c := dial(t, addr)
		_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		_ = c.Close()
	},
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientHangUpsEndOnlyTheirConnection(t *testing.T) {
	e := newEnv(t)
	be := backend(t, "a")
	e.push(e.basic(routeConfig("rc", vhost("v", []string{"*"}, prefixRoute("/", "a"))), map[string]*httptest.Server{"a": be}))
	addr := net.JoinHostPort("127.0.0.1", itoa(e.port))

	// Another client keeps succeeding all along.
	stop := make(chan struct{})
	var served atomic.Int64
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			e.call("GET", "", "/", nil, http.StatusOK)
			served.Add(1)
		}
	})
	for name, hangUp := range clientHangUps {
		for range 100 {
			hangUp(t, addr)
		}
		t.Logf("%s: 100 connections", name)
	}
	close(stop)
	wg.Wait()
	e.call("GET", "", "/", nil, http.StatusOK)
	if served.Load() == 0 {
		t.Fatal("the steady client was never served")
	}
	if p := e.dp.Status().Panics; p != 0 {
		t.Fatalf("%d connection goroutines panicked", p)
	}
}

// resettingBackend accepts, reads a request and resets; it counts attempts.
func resettingBackend(t testing.TB) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	attempts := new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			attempts.Add(1)
			_, _ = c.Read(make([]byte, 4096))
			resetConn(t, c)
		}
	}()
	return ln.Addr().String(), attempts
}

func TestBackendResetAnswers503AndRetries(t *testing.T) {
	for _, tc := range []struct {
		retryOn  string
		attempts int32
	}{{"", 1}, {"reset", 3}, {"5xx", 3}, {"connect-failure", 1}} {
		t.Run("retryOn="+tc.retryOn, func(t *testing.T) {
			e := newEnv(t)
			addr, attempts := resettingBackend(t)
			route := withAction(prefixRoute("/", "a"), func(a *routev3.RouteAction) {
				if tc.retryOn != "" {
					a.RetryPolicy = &routev3.RetryPolicy{RetryOn: tc.retryOn, NumRetries: wrapperspb.UInt32(2)}
				}
			})
			r := e.basic(routeConfig("rc", vhost("v", []string{"*"}, route)), nil)
			r.clusters = append(r.clusters, edsCluster("a"))
			r.endpoints = append(r.endpoints, cla("a", addr))
			e.push(r)
			s, _ := e.call("GET", "", "/", nil, http.StatusServiceUnavailable)
			if s.Body != msgReset {
				t.Errorf("body %q, want %q", s.Body, msgReset)
			}
			if got := attempts.Load(); got != tc.attempts {
				t.Errorf("%d attempts, want %d", got, tc.attempts)
			}
		})
	}
}

// panickyConn panics on its first read, as a bug in a socket layer would.
