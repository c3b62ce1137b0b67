package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// opaPolicy allows /orders to alice (telling the upstream who she is),
// /health to anyone, and denies the rest with its own status and body.
const opaPolicy = `package envoy.authz

import rego.v1

default allow := {"allowed": false, "http_status": 403, "body": "denied by policy", "headers": {"x-policy": "orders"}}

allow := {"allowed": true, "headers": {"x-authz-user": user}} if {
	input.parsed_path[0] == "orders"
	user := input.attributes.request.http.headers["x-user"]
	user == "alice"
}

allow := {"allowed": true, "headers": {}} if input.parsed_path[0] == "health"
`

// startOPA runs opa-authz (e2e/opa-authz: OPA serving Envoy's ext_authz
// gRPC API) with the policy on addr; the func returned stops it.
func startOPA(t *testing.T, addr string) func() {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "policy.rego", opaPolicy)
	return startTool(t, cachedTool(t, "GLUON_OPA", "opa-testenv"), "-addr", addr, "-policy", dir+"/policy.rego")
}

const extAuthConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Settings
metadata: {name: settings}
spec:
  extauth:
    extauthzServerRef: {name: AUTHZ_UPSTREAM}
    requestTimeout: 1s
    failureModeAllow: FAILURE_MODE_ALLOW
HTTP_SERVICE
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: opa}
spec:
  useHttp2: true
  static: {hosts: [{addr: 127.0.0.1, port: OPA_PORT}]}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: http-authz}
spec: {static: {hosts: [{addr: 127.0.0.1, port: HTTP_AUTHZ_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: app}
spec: {static: {hosts: [{addr: 127.0.0.1, port: APP_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: shop}
spec:
  virtualHost:
    options: {extauth: {customAuth: {}}}
    routes:
    - matchers: [{prefix: /public}]
      options: {extauth: {disable: true}}
      routeAction: {single: {upstream: {name: app}}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: app}}}
`

// TestExtAuthz: a real OPA, as the external authorization service over
// gRPC, allows and denies by path and header; a header its policy adds
// reaches the upstream; its denial (status, body, header) reaches the
// client; a route may opt out. With OPA down requests get 403, or pass
// with failureModeAllow. The same checks run against an HTTP service.
func TestExtAuthz(t *testing.T) {
	app := startBackend(t, "app", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out := "user=" + r.Header.Get("X-Authz-User")
		if len(body) > 0 {
			out += " body=" + string(body)
		}
		w.Write([]byte(out))
	})
	httpAuthz := startBackend(t, "http-authz", func(w http.ResponseWriter, r *http.Request) {
		if body, _ := io.ReadAll(r.Body); string(body) == "forbidden words" {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte("denied by body"))
			return
		}
		if strings.HasPrefix(r.URL.Path, "/check/orders") && r.Header.Get("X-User") == "alice" && r.Header.Get("X-Gluon") == "yes" {
			w.Header().Set("X-Authz-User", "alice")
			return
		}
		w.Header().Set("X-Policy", "orders")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte("denied by policy"))
	})
	opaAddr := freeAddr(t)
	stopOPA := startOPA(t, opaAddr)
	gw := freeAddr(t)
	dir := t.TempDir()
	write := func(upstream, failureModeAllow, httpService string) {
		writeFile(t, dir, "gluon.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "OPA_PORT", portOf(opaAddr), "APP_PORT", app.port(),
			"HTTP_AUTHZ_PORT", httpAuthz.port(), "AUTHZ_UPSTREAM", upstream, "FAILURE_MODE_ALLOW", failureModeAllow,
			"HTTP_SERVICE", httpService).Replace(extAuthConfig))
	}
	write("opa", "false", "")
	startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	waitFor(t, 20*time.Second, "OPA answering through the gateway", func() bool {
		code, _ := get(t, base+"/health", nil)
		return code == 200
	})

	checks := func(t *testing.T) {
		if code, body := get(t, base+"/orders/7", map[string]string{"x-user": "alice"}); code != 200 || body != "user=alice" {
			t.Errorf("alice: %d %q", code, body)
		}
		code, body, h := getHeaders(t, base+"/orders/7", map[string]string{"x-user": "bob"})
		if code != 403 || body != "denied by policy" || h.Get("X-Policy") != "orders" {
			t.Errorf("bob: %d %q %v", code, body, h)
		}
		if code, _ := get(t, base+"/public", nil); code != 200 {
			t.Errorf("a route that opts out: %d", code)
		}
	}
	t.Run("OPA over gRPC allows and denies", checks)
	t.Run("with OPA down, requests are refused, or let through with failureModeAllow", func(t *testing.T) {
		stopOPA()
		if code, _ := get(t, base+"/orders/7", map[string]string{"x-user": "alice"}); code != 403 {
			t.Errorf("OPA down: %d, want 403", code)
		}
		if code, _ := get(t, base+"/public", nil); code != 200 {
			t.Errorf("a route that opts out, OPA down: %d", code)
		}
		write("opa", "true", "")
		waitFor(t, 10*time.Second, "failureModeAllow in force", func() bool {
			code, _ := get(t, base+"/orders/7", map[string]string{"x-user": "bob"})
			return code == 200
		})
	})
	t.Run("an HTTP service allows and denies the same", func(t *testing.T) {
		write("http-authz", "false", `    requestBody: {maxRequestBytes: 64}
    httpService:
      pathPrefix: /check
      request: {allowedHeaders: [x-user], headersToAdd: {x-gluon: "yes"}}
      response: {allowedUpstreamHeaders: [x-authz-user]}`)
		waitFor(t, 10*time.Second, "the HTTP service in force", func() bool {
			code, _ := get(t, base+"/orders/7", map[string]string{"x-user": "bob"})
			return code == 403
		})
		checks(t)
		// The service sees the body (up to the limit) and the upstream
		// still gets it; a larger one is refused before any check.
		if code, body := doBody(t, http.MethodPost, base+"/orders/7", nil, "forbidden words"); code != 403 || body != "denied by body" {
			t.Errorf("a body the service refuses: %d %q", code, body)
		}
		if code, body := doBody(t, http.MethodPost, base+"/orders/7", map[string]string{"x-user": "alice"}, "ok words"); code != 200 || body != "user=alice body=ok words" {
			t.Errorf("a body the service allows: %d %q", code, body)
		}
		if code, _ := doBody(t, http.MethodPost, base+"/orders/7", map[string]string{"x-user": "alice"}, strings.Repeat("x", 100)); code != 413 {
			t.Errorf("a body over maxRequestBytes: %d, want 413", code)
		}
	})
}
