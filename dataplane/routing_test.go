package dataplane

import (
	"net/http"
	"net/http/httptest"
	"testing"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestRouting(t *testing.T) {
	e := newEnv(t)
	names := []string{"prefix", "exact", "regex", "header", "query", "method", "nocase", "wild-suffix", "wild-prefix", "any", "exact-host"}
	srvs := map[string]*httptest.Server{}
	for _, n := range names {
		srvs[n] = backend(t, n)
	}

	regexRoute := &routev3.Route{
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: `/items/[0-9]+`}}},
		Action: toCluster("regex"),
	}
	exactRoute := &routev3.Route{
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/exact"}},
		Action: toCluster("exact"),
	}
	headerRoute := prefixRoute("/", "header")
	headerRoute.Match.Headers = []*routev3.HeaderMatcher{exactHeader("x-tenant", "blue")}
	queryRoute := prefixRoute("/", "query")
	queryRoute.Match.QueryParameters = []*routev3.QueryParameterMatcher{{
		Name: "debug",
		QueryParameterMatchSpecifier: &routev3.QueryParameterMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "tr"},
		}},
	}}
	methodRoute := prefixRoute("/", "method")
	methodRoute.Match.Headers = []*routev3.HeaderMatcher{exactHeader(":method", "DELETE")}
	nocaseRoute := prefixRoute("/NoCase", "nocase")
	nocaseRoute.Match.CaseSensitive = wrapperspb.Bool(false)

	rc := routeConfig("rc",
		vhost("main", []string{"example.com"},
			exactRoute, regexRoute, headerRoute, queryRoute, methodRoute, nocaseRoute,
			prefixRoute("/app", "prefix"),
		),
		vhost("exact-host", []string{"api.foo.com"}, prefixRoute("/", "exact-host")),
		vhost("wild-suffix", []string{"*.foo.com"}, prefixRoute("/", "wild-suffix")),
		vhost("wild-prefix", []string{"foo.*"}, prefixRoute("/", "wild-prefix")),
		vhost("any", []string{"*"}, prefixRoute("/any", "any")),
	)
	e.push(e.basic(rc, srvs))

	cases := []struct {
		name, method, host, path string
		hdr                      http.Header
		want                     string // backend, or "" for 404
	}{
		{"prefix", "GET", "example.com", "/app/x", nil, "prefix"},
		{"exact", "GET", "example.com", "/exact", nil, "exact"},
		{"exact does not match longer", "GET", "example.com", "/exact/more", nil, ""},
		{"exact ignores query", "GET", "example.com", "/exact?a=b", nil, "exact"},
		{"regex", "GET", "example.com", "/items/42", nil, "regex"},
		{"regex is a full match", "GET", "example.com", "/items/42x", nil, ""},
		{"header", "GET", "example.com", "/zzz", http.Header{"X-Tenant": {"blue"}}, "header"},
		{"header mismatch", "GET", "example.com", "/zzz", http.Header{"X-Tenant": {"red"}}, ""},
		{"query", "GET", "example.com", "/zzz?debug=true", nil, "query"},
		{"query mismatch", "GET", "example.com", "/zzz?debug=false", nil, ""},
		{"method", "DELETE", "example.com", "/zzz", nil, "method"},
		{"case insensitive prefix", "GET", "example.com", "/nocase/a", nil, "nocase"},
		{"case sensitive prefix", "GET", "example.com", "/APP/x", nil, ""},
		{"host is case-insensitive, port stripped", "GET", "EXAMPLE.com:8080", "/app", nil, "prefix"},
		{"exact domain beats wildcard", "GET", "api.foo.com", "/", nil, "exact-host"},
		{"suffix wildcard", "GET", "www.foo.com", "/", nil, "wild-suffix"},
		{"prefix wildcard", "GET", "foo.org", "/", nil, "wild-prefix"},
		{"catch-all vhost", "GET", "other.net", "/any/thing", nil, "any"},
		{"no route in vhost", "GET", "other.net", "/nothing", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := http.StatusOK
			if c.want == "" {
				want = http.StatusNotFound
			}
			s, _ := e.call(c.method, c.host, c.path, c.hdr, want)
			if s.Backend != c.want {
				t.Errorf("routed to %q, want %q", s.Backend, c.want)
			}
		})
	}
}

func TestNoVirtualHost(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	e.push(e.basic(routeConfig("rc", vhost("only", []string{"only.example"}, prefixRoute("/", "b"))), map[string]*httptest.Server{"b": b}))
	e.call("GET", "else.example", "/", nil, http.StatusNotFound)
	e.call("GET", "only.example", "/", nil, http.StatusOK)
}

func TestInlineRouteConfig(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	l := httpListener(t, "inline", e.port, "unused")
	hcm := &hcmv3.HttpConnectionManager{
		StatPrefix:     "inline",
		RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: routeConfig("inline", vhost("all", []string{"*"}, prefixRoute("/", "b")))},
		HttpFilters:    []*hcmv3.HttpFilter{routerFilter(t)},
	}
	l.FilterChains[0].Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)}
	e.push(resources{
		listeners: []types.Resource{l},
		clusters:  []types.Resource{edsCluster("b")},
		endpoints: []types.Resource{cla("b", hostPort(b))},
	})
	if s, _ := e.call("GET", "", "/x", nil, http.StatusOK); s.Backend != "b" {
		t.Fatalf("routed to %q", s.Backend)
	}
}
