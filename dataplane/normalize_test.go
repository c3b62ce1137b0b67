package dataplane

import (
	"net/http"
	"net/http/httptest"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestNormalizeTarget(t *testing.T) {
	both := pathNormalizing{dots: true, merge: true}
	dots := pathNormalizing{dots: true}
	for _, tc := range []struct {
		n        pathNormalizing
		in, want string
	}{
		{dots, "/admin", "/admin"},
		{dots, "/./admin", "/admin"},
		{dots, "/public/../admin", "/admin"},
		{dots, "/public/%2e%2E/admin?x=/../y", "/admin?x=/../y"},
		{dots, "/a/b/..", "/a/"},
		{dots, "/a/.", "/a/"},
		{dots, "/..", "/"},
		{dots, "/../../a", "/a"},
		{dots, "/a/.b/..c/...", "/a/.b/..c/..."},
		{dots, "/index.html", "/index.html"},
		{dots, "/a//b", "/a//b"},
		{both, "/a//b//", "/a/b/"},
		{both, "//admin", "/admin"},
		{pathNormalizing{merge: true}, "/a/../b", "/a/../b"},
		{pathNormalizing{}, "/a/../b", "/a/../b"},
		{dots, "*", "*"},
	} {
		if got := tc.n.normalizeTarget(tc.in); got != tc.want {
			t.Errorf("%+v %q: %q, want %q", tc.n, tc.in, got, tc.want)
		}
	}
}

func BenchmarkNormalizeTargetUnchanged(b *testing.B) {
	n := pathNormalizing{dots: true}
	for b.Loop() {
		_ = n.normalizeTarget("/api/pets/123/photo.jpg?size=large")
	}
}

func TestNormalizedPathsMatchTheirRoutes(t *testing.T) {
	e := newEnv(t)
	be := backend(t, "a")
	deny := &routev3.Route{
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/admin"}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 403}},
	}
	r := e.basic(routeConfig("rc", vhost("v", []string{"*"}, deny, prefixRoute("/", "a"))), map[string]*httptest.Server{"a": be})
	r.listeners[0] = withHCM(t, r.listeners[0].(*listenerv3.Listener), func(h *hcmv3.HttpConnectionManager) {
		h.NormalizePath = wrapperspb.Bool(true)
	})
	e.push(r)
	for _, path := range []string{"/admin", "/./admin", "/public/../admin", "/public/%2e%2e/admin/x"} {
		e.call("GET", "", path, nil, http.StatusForbidden)
	}
	s, _ := e.call("GET", "", "/public/./x/../y?q=/../z", nil, http.StatusOK)
	if s.URI != "/public/y?q=/../z" {
		t.Errorf("upstream got %q, want the normalised path", s.URI)
	}
}
