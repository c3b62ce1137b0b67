package e2e

import (
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const resetConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: a}
spec: {static: {hosts: [{addr: 127.0.0.1, port: A_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: resetting}
spec: {static: {hosts: [{addr: 127.0.0.1, port: RESET_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    domains: ["*"]
    routes:
    - matchers: [{prefix: /reset}]
      routeAction: {single: {upstream: {name: resetting}}}
      options: {retries: {retryOn: reset, numRetries: 2}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
`

// resetAfterRead accepts connections, reads a request and resets each one.
func resetAfterRead(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_, _ = c.Read(make([]byte, 4096))
			_ = c.(*net.TCPConn).SetLinger(0)
			_ = c.Close()
		}
	}()
	return ln.Addr().String(), accepted
}

// hangUp opens a connection to addr and leaves in one of the three ways
// that used to crash the process.
func hangUp(t *testing.T, addr string, way int) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tcp := c.(*net.TCPConn)
	switch way {
	case 0: // reset before sending anything
		time.Sleep(time.Millisecond)
		_ = tcp.SetLinger(0)
	case 1: // a request, then a reset
		_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		time.Sleep(time.Millisecond)
		_ = tcp.SetLinger(0)
	case 2: // requests, then a close without reading the answers
		_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	}
	_ = c.Close()
}

// TestResetsDoNotCrash resets 100 client connections in each of three ways
// against `gluon serve` (embedded data plane) and `gluon dataplane` while
// another client keeps being served, then checks that both processes are
// alive and that a backend reset is answered 503 after the configured retries.
func TestResetsDoNotCrash(t *testing.T) {
	a := startBackend(t, "a", nil)
	resetAddr, accepted := resetAfterRead(t)
	gwEmbedded, gwSeparate := freeAddr(t), freeAddr(t)
	dirs := []string{t.TempDir(), t.TempDir()}
	for i, gw := range []string{gwEmbedded, gwSeparate} {
		writeFile(t, dirs[i], "config.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "A_PORT", a.port(), "RESET_PORT", portOf(resetAddr)).Replace(resetConfig))
	}
	embedded := startServe(t, dirs[0], t.TempDir(), "embedded")
	cp := startServe(t, dirs[1], t.TempDir(), "none")
	dp := startGluon(t, "dataplane", "--xds-addr", cp.xds, "--node-id", "dp-1")

	for _, tc := range []struct {
		name  string
		gw    string
		procs []*proc
	}{{"gluon serve", gwEmbedded, []*proc{embedded.proc}}, {"gluon dataplane", gwSeparate, []*proc{cp.proc, dp}}} {
		base := "http://" + tc.gw
		waitFor(t, 10*time.Second, tc.name+" serving", func() bool { return reaches(t, base+"/x", "any", "a") })
		steady := startLoad(t, 1, time.Minute, base+"/steady", "any", func(code int, body string) bool {
			return code == http.StatusOK && strings.HasPrefix(body, "a ")
		})
		for way := range 3 {
			for range 100 {
				hangUp(t, tc.gw, way)
			}
		}
		steady.stop(t)
		for _, p := range tc.procs {
			select {
			case <-p.done:
				t.Fatalf("%s: a process exited after client resets:\n%s", tc.name, p.Logs())
			default:
			}
		}
		if !reaches(t, base+"/x", "any", "a") {
			t.Fatalf("%s: no longer serving after client resets", tc.name)
		}

		before := accepted.Load()
		code, body := get(t, base+"/reset", nil)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "reset") {
			t.Errorf("%s: backend reset answered %d %q, want 503", tc.name, code, body)
		}
		if n := accepted.Load() - before; n != 3 {
			t.Errorf("%s: backend reset tried %d times, want 3 (1 + numRetries 2)", tc.name, n)
		}
	}
}
