package e2e

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const routingConfig = `apiVersion: gluon.dev/v1
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
metadata: {name: b}
spec: {static: {hosts: [{addr: 127.0.0.1, port: B_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: flaky}
spec: {static: {hosts: [{addr: 127.0.0.1, port: FLAKY_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: slow}
spec: {static: {hosts: [{addr: 127.0.0.1, port: SLOW_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: routing}
spec:
  virtualHost:
    domains: ["*"]
    routes:
    - matchers: [{prefix: /pick, headers: [{name: x-backend, value: b}]}]
      routeAction: {single: {upstream: {name: b}}}
    - matchers: [{prefix: /pick, queryParameters: [{name: to, value: b}]}]
      routeAction: {single: {upstream: {name: b}}}
    - matchers: [{prefix: /pick, methods: [POST, PUT]}]
      routeAction: {single: {upstream: {name: b}}}
    - matchers: [{prefix: /pick}]
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{prefix: /rewrite/}]
      routeAction: {single: {upstream: {name: b}}}
      options: {prefixRewrite: /inner/}
    - matchers: [{exact: /split}]
      routeAction:
        multi:
          destinations:
          - {weight: 80, destination: {upstream: {name: a}}}
          - {weight: 20, destination: {upstream: {name: b}}}
    - matchers: [{prefix: /flaky}]
      routeAction: {single: {upstream: {name: flaky}}}
      options: {retries: {retryOn: 5xx, numRetries: 2}}
    - matchers: [{prefix: /slow}]
      routeAction: {single: {upstream: {name: slow}}}
      options: {timeout: 300ms}
    - matchers: [{prefix: /old}]
      redirectAction: {hostRedirect: new.example.com, prefixRewrite: /new, responseCode: MOVED_PERMANENTLY}
    - matchers: [{exact: /teapot}]
      directResponseAction: {status: 418, body: "I'm a teapot"}
    - matchers: [{prefix: /missing}]
      routeAction: {single: {upstream: {name: nowhere}}}
`

func TestRouting(t *testing.T) {
	a, b := startBackend(t, "a", nil), startBackend(t, "b", nil)
	var flakyCalls atomic.Int32
	flaky := startBackend(t, "flaky", func(w http.ResponseWriter, r *http.Request) {
		if flakyCalls.Add(1) == 1 {
			http.Error(w, "first call fails", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("flaky ok"))
	})
	slow := startBackend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
		}
	})
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "routing.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "A_PORT", a.port(), "B_PORT", b.port(),
		"FLAKY_PORT", flaky.port(), "SLOW_PORT", slow.port()).Replace(routingConfig))
	startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	waitFor(t, 10*time.Second, "gateway serving", func() bool { c, _ := get(t, base+"/teapot", nil); return c == 418 })

	cases := []struct {
		name, method, path string
		headers            map[string]string
		code               int
		body               string
	}{
		{"default", "GET", "/pick/x", nil, 200, "a GET /pick/x"},
		{"by header", "GET", "/pick/x", map[string]string{"x-backend": "b"}, 200, "b GET /pick/x"},
		{"by query", "GET", "/pick/x?to=b", nil, 200, "b GET /pick/x?to=b"},
		{"by method", "POST", "/pick/x", nil, 200, "b POST /pick/x"},
		{"prefix rewrite", "GET", "/rewrite/deep/path", nil, 200, "b GET /inner/deep/path"},
		{"retry after one failure", "GET", "/flaky", nil, 200, "flaky ok"},
		{"timeout", "GET", "/slow", nil, 504, "upstream request timeout"},
		{"direct response", "GET", "/teapot", nil, 418, "I'm a teapot"},
		{"missing upstream is a clear 5xx", "GET", "/missing", nil, 500, "upstream default/nowhere not found"},
		{"no route", "GET", "/nothing-here", nil, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := do(t, c.method, base+c.path, c.headers)
			if code != c.code || !strings.Contains(body, c.body) {
				t.Fatalf("%s %s: got %d %q, want %d containing %q", c.method, c.path, code, body, c.code, c.body)
			}
		})
	}
	t.Run("redirect", func(t *testing.T) {
		resp, err := client.Get(base + "/old/page?q=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != 301 || loc != "http://new.example.com/new/page?q=1" {
			t.Fatalf("got %d Location %q", resp.StatusCode, loc)
		}
	})
	t.Run("weighted split 80/20 within 5%", func(t *testing.T) {
		const n = 2000
		toA := 0
		for range n {
			code, body := get(t, base+"/split", nil)
			if code != 200 {
				t.Fatalf("split: %d %s", code, body)
			}
			if strings.HasPrefix(body, "a ") {
				toA++
			}
		}
		if share := float64(toA) / n; share < 0.75 || share > 0.85 {
			t.Fatalf("a got %.1f%% of %d requests, want 80%% ± 5%%", share*100, n)
		}
	})
}
