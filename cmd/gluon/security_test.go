package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNonLoopbackEndpointsNeedAuthentication(t *testing.T) {
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("a-long-enough-admin-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	local := serveOptions{xdsAddr: "127.0.0.1:9977", rlsAddr: "127.0.0.1:9978", adminAddr: "localhost:9976"}
	if _, err := local.security(); err != nil {
		t.Fatalf("loopback endpoints refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*serveOptions)
		want string
	}{
		{"xds", func(o *serveOptions) { o.xdsAddr = "0.0.0.0:9977" }, "--xds-addr"},
		{"ratelimit", func(o *serveOptions) { o.rlsAddr = "10.0.0.1:9978" }, "--ratelimit-addr"},
		{"admin", func(o *serveOptions) { o.adminAddr = ":9976" }, "--admin-addr"},
		{"admin with a token", func(o *serveOptions) { o.adminAddr, o.adminTokenFile = ":9976", token }, ""},
		{"insecure allowed", func(o *serveOptions) { o.xdsAddr, o.allowInsecure = "0.0.0.0:9977", true }, ""},
	} {
		o := local
		tc.edit(&o)
		_, err := o.security()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
}

func TestAdminTokenGuardsAllButProbes(t *testing.T) {
	h := security{adminToken: "a-long-enough-admin-token"}.adminAuth(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	for _, tc := range []struct {
		path, auth string
		want       int
	}{
		{"/healthz", "", 200}, {"/readyz", "", 200},
		{"/statusz", "", 401}, {"/snapshot", "Bearer wrong", 401}, {"/debug/pprof/", "", 401},
		{"/statusz", "Bearer a-long-enough-admin-token", 200},
	} {
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s with %q: %d, want %d", tc.path, tc.auth, rec.Code, tc.want)
		}
	}
}

// TestConsoleTokenCookie: the console opened with the right ?token= gets
// it as an HttpOnly cookie and is sent on without it; the cookie then
// admits; a wrong token or cookie does not.
func TestConsoleTokenCookie(t *testing.T) {
	h := security{adminToken: "a-long-enough-admin-token"}.adminAuth(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/?token=a-long-enough-admin-token", nil))
	cookies := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/" || len(cookies) != 1 || !cookies[0].HttpOnly {
		t.Fatalf("login: %d %v %v", rec.Code, rec.Header(), cookies)
	}
	for _, tc := range []struct {
		cookie string
		want   int
	}{{cookies[0].Value, 200}, {"wrong", 401}} {
		req := httptest.NewRequest(http.MethodGet, "/console/api/state", nil)
		req.AddCookie(&http.Cookie{Name: consoleCookie, Value: tc.cookie})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("cookie %q: %d, want %d", tc.cookie, rec.Code, tc.want)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/console/?token=wrong", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d", rec.Code)
	}
}
