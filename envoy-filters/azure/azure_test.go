package azure

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// headers is a fake header map.
type headers map[string]string

func (h headers) Get(k string) (string, bool) { v, ok := h[strings.ToLower(k)]; return v, ok }
func (h headers) Set(k, v string)             { h[strings.ToLower(k)] = v }
func (h headers) Add(k, v string)             { h[strings.ToLower(k)] += "," + v }
func (h headers) Del(k string)                { delete(h, strings.ToLower(k)) }

const keys = `{"keys": {"default/app": {"functionKeys": {"hello": "fn-key"}, "hostKey": "host-key", "masterKey": "master-key"},
	"default/masteronly": {"masterKey": "master-key"}}}`

func compile(t testing.TB, f *Filter, cfg string) *Route {
	t.Helper()
	r, err := f.CompileRoute([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestKeysByAuthLevel(t *testing.T) {
	f, err := NewFilter([]byte(keys))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, upstream, fn, level, wantKey string }{
		{"function key", "default/app", "hello", "function", "fn-key"},
		{"default level is function", "default/app", "hello", "", "fn-key"},
		{"host key when the function has none", "default/app", "other", "function", "host-key"},
		{"master key last", "default/masteronly", "hello", "function", "master-key"},
		{"admin", "default/app", "hello", "admin", "master-key"},
		{"anonymous", "default/app", "hello", "anonymous", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := compile(t, f, fmt.Sprintf(`{"upstream": %q, "functionName": %q, "path": "/api/orders/42", "host": "app.azurewebsites.net", "authLevel": %q}`, tc.upstream, tc.fn, tc.level))
			h := headers{":path": "/orders/42?x=1&y=2", ":authority": "gw.example.com", "x-functions-key": "client-key"}
			if lr := r.NewStream().OnRequest(h); lr != nil {
				t.Fatalf("local reply %+v", lr)
			}
			if h[":path"] != "/api/orders/42?x=1&y=2" || h[":authority"] != "app.azurewebsites.net" {
				t.Errorf("path %q authority %q", h[":path"], h[":authority"])
			}
			if got, ok := h.Get("x-functions-key"); got != tc.wantKey || ok != (tc.wantKey != "") {
				t.Errorf("x-functions-key %q (%v), want %q", got, ok, tc.wantKey)
			}
		})
	}
}

func TestMissingSecretsAre502(t *testing.T) {
	f, _ := NewFilter([]byte(keys))
	for cfg, want := range map[string]string{
		`{"upstream": "default/nokeys", "functionName": "hello", "path": "/api/h", "host": "h"}`:                                     "no key for function hello (set a secret or let discovery read keys)",
		`{"upstream": "default/nokeys", "functionName": "hello", "path": "/api/h", "host": "h", "authLevel": "admin"}`:               "no key for function hello",
		`{"upstream": "default/app", "functionName": "hello", "path": "/api/h", "host": "h", "aad": true}`:                           "no AAD app registration for upstream default/app",
		`{"upstream": "default/app", "functionName": "hello", "path": "/api/h", "host": "h", "authLevel": "anonymous", "aad": true}`: "no AAD app registration",
	} {
		h := headers{":path": "/x"}
		lr := compile(t, f, cfg).NewStream().OnRequest(h)
		if lr == nil || lr.Status != http.StatusBadGateway || !strings.Contains(lr.Body, want) {
			t.Errorf("%s: reply %+v, want 502 %q", cfg, lr, want)
		}
		if h[":path"] != "/x" {
			t.Errorf("%s: request rewritten to %q despite the reply", cfg, h[":path"])
		}
	}
}

func TestRouteConfigChecked(t *testing.T) {
	f, _ := NewFilter(nil)
	for _, cfg := range []string{
		`{"functionName": "f", "path": "/api/f", "host": "h"}`,
		`{"upstream": "u", "functionName": "f", "path": "api/f", "host": "h"}`,
		`{"upstream": "u", "functionName": "f", "path": "/api/f?code=x", "host": "h"}`,
		`{"upstream": "u", "functionName": "f", "path": "/api/f", "host": "h", "authLevel": "system"}`,
		`not json`,
	} {
		if _, err := f.CompileRoute([]byte(cfg)); err == nil {
			t.Errorf("%s: accepted", cfg)
		}
	}
	if _, err := NewFilter([]byte(`{"keys": []}`)); err == nil {
		t.Error("bad listener config accepted")
	}
}

func TestResponseWarnsOnRefusal(t *testing.T) {
	f, _ := NewFilter([]byte(keys))
	s := compile(t, f, `{"upstream": "default/app", "functionName": "hello", "path": "/api/h", "host": "app.azurewebsites.net"}`).NewStream()
	if w := s.OnResponse(headers{":status": "200"}); w != "" {
		t.Errorf("200 warned %q", w)
	}
	h := headers{":status": "401"}
	if w := s.OnResponse(h); !strings.Contains(w, "function hello") || h[":status"] != "401" {
		t.Errorf("401: warning %q, status %q", w, h[":status"])
	}
}

// aadServer is a stand-in for Azure AD's v2.0 endpoints: OpenID discovery
// and client-credentials token issue, checking the client's secret or
// federated assertion.
type aadServer struct {
	*httptest.Server
	lifetime time.Duration
	issued   atomic.Int32
}

func newAADServer(t *testing.T, lifetime time.Duration) *aadServer {
	a := &aadServer{lifetime: lifetime}
	a.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/tenant1/v2.0/.well-known/openid-configuration":
			base := a.URL + "/tenant1"
			_ = json.NewEncoder(w).Encode(map[string]string{
				"token_endpoint": base + "/oauth2/v2.0/token", "authorization_endpoint": base + "/oauth2/v2.0/authorize",
				"issuer": base + "/v2.0",
			})
		case r.Method == http.MethodPost && r.URL.Path == "/tenant1/oauth2/v2.0/token":
			_ = r.ParseForm()
			if r.PostForm.Has("client_assertion") { // a workload identity's federated token
				if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
					r.PostForm.Get("client_assertion") != "federated-token" || r.PostForm.Get("client_id") != "wi-client" ||
					r.PostForm.Get("grant_type") != "client_credentials" {
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"error": "invalid_client", "error_description": "AADSTS700213: No matching federated identity record found for presented assertion subject.\r\nTrace ID: 1"}`))
					return
				}
			} else if r.PostForm.Get("client_secret") != "s3cret" {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1"}`))
				return
			}
			if !strings.Contains(r.PostForm.Get("scope"), "api://app/.default") {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1"}`))
				return
			}
			n := a.issued.Add(1)
			_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "access_token": fmt.Sprintf("token-%d", n), "expires_in": int(a.lifetime / time.Second)})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *aadServer) filter(t testing.TB, secret string) *Filter {
	t.Helper()
	cfg := fmt.Sprintf(`{"aad": {"default/app": {"tenantId": "tenant1", "clientId": "c1", "clientSecret": %q, "authorityHost": %q, "scope": "api://app/.default"}}}`, secret, a.URL+"/")
	f, err := NewFilter([]byte(cfg), WithTransport(a.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

const aadRoute = `{"upstream": "default/app", "functionName": "hello", "path": "/api/h", "host": "app.azurewebsites.net", "authLevel": "anonymous", "aad": true}`

func bearer(t *testing.T, r *Route) string {
	t.Helper()
	h := headers{":path": "/h"}
	if lr := r.NewStream().OnRequest(h); lr != nil {
		t.Fatalf("local reply %+v", lr)
	}
	return h["authorization"]
}

// wantRefreshed checks that r sends token prefix+"-1" twice (cached), then,
// past three quarters of a 4 s lifetime, a fresh prefix+"-2".
func wantRefreshed(t *testing.T, r *Route, prefix string) {
	t.Helper()
	if got := bearer(t, r); got != "Bearer "+prefix+"-1" {
		t.Fatalf("authorization %q", got)
	}
	if got := bearer(t, r); got != "Bearer "+prefix+"-1" {
		t.Fatalf("second request: %q", got)
	}
	time.Sleep(3100 * time.Millisecond)
	if got := bearer(t, r); got != "Bearer "+prefix+"-2" {
		t.Fatalf("after 3 s: %q, want a fresh token", got)
	}
}

func TestAADTokenCachedAndShared(t *testing.T) {
	a := newAADServer(t, time.Hour)
	f := a.filter(t, "s3cret")
	r1, r2 := compile(t, f, aadRoute), compile(t, f, aadRoute)
	for _, r := range []*Route{r1, r2, r1} {
		if got := bearer(t, r); got != "Bearer token-1" {
			t.Fatalf("authorization %q", got)
		}
	}
	if n := a.issued.Load(); n != 1 {
		t.Errorf("%d tokens issued, want 1", n)
	}
}

func TestAADTokenRefreshedBeforeExpiry(t *testing.T) {
	// A 4 s lifetime is refreshed after 3 s, its last quarter.
	a := newAADServer(t, 4*time.Second)
	wantRefreshed(t, compile(t, a.filter(t, "s3cret"), aadRoute), "token")
}

func TestAADFailureIs502WithoutSecret(t *testing.T) {
	a := newAADServer(t, time.Hour)
	lr := compile(t, a.filter(t, "wrong-secret"), aadRoute).NewStream().OnRequest(headers{":path": "/h"})
	if lr == nil || lr.Status != http.StatusBadGateway || !strings.Contains(lr.Body, "AADSTS7000215") || strings.Contains(lr.Body, "wrong-secret") {
		t.Fatalf("reply %+v", lr)
	}
	t.Log(lr.Body)
}

func BenchmarkOnRequestFunctionKey(b *testing.B) {
	f, _ := NewFilter([]byte(keys))
	r := compile(b, f, `{"upstream": "default/app", "functionName": "hello", "path": "/api/orders/42", "host": "app.azurewebsites.net"}`)
	h := headers{}
	b.ReportAllocs()
	for b.Loop() {
		h[":path"], h[":authority"], h["x-functions-key"] = "/orders/42?x=1", "gw.example.com", "client"
		if lr := r.NewStream().OnRequest(h); lr != nil {
			b.Fatal(lr)
		}
	}
}
