package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestCORS: a VirtualService's CORS policy, end to end. A preflight from an
// allowed origin is answered at the gateway with the documented headers, a
// disallowed origin gets none, and a simple request carries
// access-control-allow-origin.
func TestCORS(t *testing.T) {
	base := serveOneUpstream(t, nil, "", `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: shop}
spec:
  virtualHost:
    options:
      cors:
        allowOrigin: [https://shop.example]
        allowMethods: [GET, POST]
        allowHeaders: [content-type]
        exposeHeaders: [x-backend]
        maxAge: "600"
    routes:
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
`)

	req, _ := http.NewRequest(http.MethodOptions, base+"/cart", nil)
	req.Header.Set("Origin", "https://shop.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for k, v := range map[string]string{"Access-Control-Allow-Origin": "https://shop.example", "Access-Control-Allow-Methods": "GET,POST",
		"Access-Control-Allow-Headers": "content-type", "Access-Control-Max-Age": "600"} {
		if got := resp.Header.Get(k); got != v || resp.StatusCode != 200 {
			t.Errorf("preflight: %d, %s = %q, want %q", resp.StatusCode, k, got, v)
		}
	}
	if resp.Header.Get("X-Backend") != "" {
		t.Error("the preflight reached the upstream")
	}

	for origin, want := range map[string]string{"https://shop.example": "https://shop.example", "https://evil.example": ""} {
		req, _ := http.NewRequest(http.MethodGet, base+"/cart", nil)
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want || resp.StatusCode != 200 {
			t.Errorf("GET from %s: %d, allow-origin %q, want %q", origin, resp.StatusCode, got, want)
		}
	}
}

// serveOneUpstream starts gluon serve (embedded data plane) with a Gateway
// on a free port, Upstream "a" in front of a backend answering with h (nil:
// the echoing backend named a), with upstreamOptions added to its spec,
// and the given VirtualService YAML; it returns the gateway's base URL
// once it serves.
func serveOneUpstream(t *testing.T, h http.HandlerFunc, upstreamOptions, virtualService string) string {
	t.Helper()
	return serveUpstreamA(t, h, "", upstreamOptions, virtualService)
}

// serveUpstreamA serves handler h as upstream "a" (its spec extended by
// upstreamOptions) behind a gateway (its spec extended by gatewaySpec) and
// the virtual service given, and waits until /x answers 200.
func serveUpstreamA(t *testing.T, h http.HandlerFunc, gatewaySpec, upstreamOptions, virtualService string) string {
	t.Helper()
	a := startBackend(t, "a", h)
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec:
  bindAddress: 127.0.0.1
  bindPort: `+portOf(gw)+gatewaySpec+`
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: a, labels: {discovery.gluon.dev/function_discovery: disabled}}
spec:
  static: {hosts: [{addr: 127.0.0.1, port: `+a.port()+`}]}
`+upstreamOptions+`
---
`+virtualService)
	startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	waitFor(t, 10*time.Second, "config served", func() bool { code, _ := get(t, base+"/x", nil); return code == 200 })
	return base
}
