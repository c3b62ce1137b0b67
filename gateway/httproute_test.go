package gateway

import (
	"reflect"
	"strings"
	"testing"
	"time"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

func TestEffectiveHostnames(t *testing.T) {
	cases := []struct {
		listener string
		route    []gwv1.Hostname
		want     []string
	}{
		{"*", nil, []string{"*"}},
		{"*", []gwv1.Hostname{"b.com", "a.com"}, []string{"a.com", "b.com"}},
		{"foo.com", nil, []string{"foo.com"}},
		{"foo.com", []gwv1.Hostname{"bar.com"}, nil},
		{"*.example.com", []gwv1.Hostname{"a.example.com", "a.b.example.com", "example.com"}, []string{"a.b.example.com", "a.example.com"}},
		{"a.example.com", []gwv1.Hostname{"*.example.com"}, []string{"a.example.com"}},
		{"*.example.com", []gwv1.Hostname{"*.shop.example.com", "*.com"}, []string{"*.example.com", "*.shop.example.com"}},
	}
	for _, c := range cases {
		if got := effectiveHostnames(c.listener, c.route); !reflect.DeepEqual(got, c.want) {
			t.Errorf("effectiveHostnames(%q, %q) = %q, want %q", c.listener, c.route, got, c.want)
		}
	}
}

// envoyRewrite applies a match's path parts as Envoy would: the first
// matching part's rewrite replaces the part of the path it matched.
func envoyRewrite(t *testing.T, prefix, replacement, path string) string {
	parts, err := pathParts(&gwv1.HTTPPathMatch{Type: pointerTo(gwv1.PathMatchPathPrefix), Value: &prefix}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		switch {
		case p.exact != "" && path == p.exact:
			return p.rewrite(replacement)
		case p.prefix != "" && strings.HasPrefix(path, p.prefix):
			return p.rewrite(replacement) + path[len(p.prefix):]
		}
	}
	return "no match"
}

// TestReplacePrefixMatch checks the table of the Gateway API's
// HTTPPathModifier documentation.
func TestReplacePrefixMatch(t *testing.T) {
	cases := []struct{ path, prefix, replacement, want string }{
		{"/foo/bar", "/foo", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo", "/xyz/", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz", "/xyz/bar"},
		{"/foo/bar", "/foo/", "/xyz/", "/xyz/bar"},
		{"/foo", "/foo", "/xyz", "/xyz"},
		{"/foo/", "/foo", "/xyz", "/xyz/"},
		{"/foo/bar", "/foo", "", "/bar"},
		{"/foo/", "/foo", "", "/"},
		{"/foo", "/foo", "", "/"},
		{"/foo/", "/foo", "/", "/"},
		{"/foo", "/foo", "/", "/"},
		{"/foobar", "/foo", "/xyz", "no match"},
		{"/", "/", "/xyz", "/xyz"},
		{"/a/b", "/", "/xyz", "/xyz/a/b"},
	}
	for _, c := range cases {
		if got := envoyRewrite(t, c.prefix, c.replacement, c.path); got != c.want {
			t.Errorf("%s with prefix %q replaced by %q: got %q, want %q", c.path, c.prefix, c.replacement, got, c.want)
		}
	}
}

func TestMatchRankOrder(t *testing.T) {
	prefix := func(v string) *gwv1.HTTPPathMatch {
		return &gwv1.HTTPPathMatch{Type: pointerTo(gwv1.PathMatchPathPrefix), Value: &v}
	}
	header := []gwv1.HTTPHeaderMatch{{Name: "x", Value: "1"}}
	query := []gwv1.HTTPQueryParamMatch{{Name: "q", Value: "1"}}
	// In precedence order.
	ordered := []gwv1.HTTPRouteMatch{
		{Path: &gwv1.HTTPPathMatch{Type: pointerTo(gwv1.PathMatchExact), Value: pointerTo("/a")}},
		{Path: prefix("/longer")},
		{Path: &gwv1.HTTPPathMatch{Type: pointerTo(gwv1.PathMatchRegularExpression), Value: pointerTo("/longe")}},
		{Path: prefix("/a"), Method: pointerTo(gwv1.HTTPMethodGet)},
		{Path: prefix("/a"), Headers: header, QueryParams: query},
		{Path: prefix("/a"), Headers: header},
		{Path: prefix("/a"), QueryParams: query},
		{Path: prefix("/a")},
	}
	for i := 1; i < len(ordered); i++ {
		a, b := rankMatch(&ordered[i-1]), rankMatch(&ordered[i])
		if a.compare(b) >= 0 || b.compare(a) <= 0 {
			t.Errorf("match %d should go before match %d: %+v, %+v", i-1, i, a, b)
		}
	}
}

func TestRequestTimeout(t *testing.T) {
	d := func(s string) *gwv1.Duration { v := gwv1.Duration(s); return &v }
	cases := []struct {
		in   *gwv1.HTTPRouteTimeouts
		want time.Duration // -1: none
	}{
		{nil, -1},
		{&gwv1.HTTPRouteTimeouts{Request: d("10s")}, 10 * time.Second},
		{&gwv1.HTTPRouteTimeouts{Request: d("10s"), BackendRequest: d("2s")}, 2 * time.Second},
		{&gwv1.HTTPRouteTimeouts{Request: d("0s")}, 0},
		{&gwv1.HTTPRouteTimeouts{Request: d("0s"), BackendRequest: d("1s")}, time.Second},
		{&gwv1.HTTPRouteTimeouts{Request: d("1h"), BackendRequest: d("0s")}, time.Hour},
	}
	for _, c := range cases {
		got, err := requestTimeout(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if (got == nil) != (c.want < 0) || (got != nil && got.Duration != c.want) {
			t.Errorf("requestTimeout(%+v) = %v, want %v", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"soon", "-1s"} {
		if _, err := requestTimeout(&gwv1.HTTPRouteTimeouts{Request: d(bad)}); err == nil {
			t.Errorf("timeout %q was accepted", bad)
		}
	}
}

func TestMirrorPercent(t *testing.T) {
	cases := []struct {
		in   gwv1.HTTPRequestMirrorFilter
		want *uint32
	}{
		{gwv1.HTTPRequestMirrorFilter{}, nil},
		{gwv1.HTTPRequestMirrorFilter{Percent: pointerTo(int32(25))}, pointerTo(uint32(25))},
		{gwv1.HTTPRequestMirrorFilter{Fraction: &gwv1.Fraction{Numerator: 1, Denominator: pointerTo(int32(4))}}, pointerTo(uint32(25))},
		{gwv1.HTTPRequestMirrorFilter{Fraction: &gwv1.Fraction{Numerator: 7}}, pointerTo(uint32(7))},
	}
	for _, c := range cases {
		if got := mirrorPercent(&c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("mirrorPercent(%+v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestTranslateLeavesInputAlone checks that the generated resources go into
// new slices, not the caller's, and that output does not vary.
func TestTranslateLeavesInputAlone(t *testing.T) {
	res, errs := decodeGatewayAPI([]byte(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gluon}
spec: {controllerName: gluon.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web}
spec: {gatewayClassName: gluon, listeners: [{name: http, protocol: HTTP, port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec: {parentRefs: [{name: web}], rules: [{backendRefs: [{name: app, port: 80}]}]}
---
apiVersion: test.gluon.dev/v1
kind: ServiceEndpoints
namespace: default
service: app
ports: [{port: 80}]
`))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	res.Upstreams = make([]*api.Upstream, 0, 8) // room to append into
	first := Translate(res, nil, Options{})
	// Nothing appended, not even into the spare capacity.
	if len(res.Upstreams) != 0 || len(res.VirtualServices) != 0 || len(res.Gateways) != 0 || res.Upstreams[:1][0] != nil {
		t.Fatalf("Translate changed its input: %+v", res)
	}
	second := Translate(res, nil, Options{})
	if !reflect.DeepEqual(first, second) {
		t.Error("two translations of the same resources differ")
	}
	var names []string
	for _, p := range first.Proxies {
		names = append(names, p.Name)
	}
	if !reflect.DeepEqual(names, []string{"default-web", api.DefaultProxyName}) {
		t.Errorf("proxies %q", names)
	}
}
