package dataplane

import (
	"net/http"
	"net/http/httptest"
	"testing"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func corsPer(t testing.TB, p *corsv3.CorsPolicy) map[string]*anypb.Any {
	return map[string]*anypb.Any{wellknown.CORS: mustAny(t, p)}
}

// TestCORS follows Envoy's filter: a preflight from an allowed origin is
// answered at the gateway, an actual request gets the allow headers on
// the upstream's response (over the upstream's own), an origin not allowed
// gets none, and a route's policy (or its disabling) replaces the virtual
// host's.
func TestCORS(t *testing.T) {
	e := newEnv(t)
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://upstream.example")
		w.Write([]byte("upstream"))
	}))
	defer b.Close()
	exact := func(s string) *matcherv3.StringMatcher {
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s}}
	}
	vhPolicy := &corsv3.CorsPolicy{
		AllowOriginStringMatch: []*matcherv3.StringMatcher{exact("https://shop.example"),
			{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: `https://[a-z]+\.shop\.example`}}}},
		AllowMethods: "GET,POST", AllowHeaders: "content-type", ExposeHeaders: "x-request-id", MaxAge: "600",
		AllowCredentials: wrapperspb.Bool(true),
	}
	public := prefixRoute("/public", "b")
	public.TypedPerFilterConfig = corsPer(t, &corsv3.CorsPolicy{AllowOriginStringMatch: []*matcherv3.StringMatcher{exact("*")}, AllowMethods: "GET"})
	internal := prefixRoute("/internal", "b")
	internal.TypedPerFilterConfig = corsPer(t, &corsv3.CorsPolicy{FilterEnabled: &core.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{}}})
	vh := vhost("all", []string{"*"}, public, internal, prefixRoute("/", "b"))
	vh.TypedPerFilterConfig = corsPer(t, vhPolicy)
	r := e.basic(routeConfig("rc", vh), map[string]*httptest.Server{"b": b})
	corsFilter := &hcmv3.HttpFilter{Name: wellknown.CORS, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &corsv3.Cors{})}}
	r.listeners = []types.Resource{httpListener(t, "http", e.port, "rc", corsFilter, routerFilter(t))}
	e.push(r)

	preflight := http.Header{"Origin": {"https://a.shop.example"}, "Access-Control-Request-Method": {"POST"}}
	resp := e.do(http.MethodOptions, "", "/cart", preflight, nil)
	resp.Body.Close()
	want := map[string]string{"Access-Control-Allow-Origin": "https://a.shop.example", "Access-Control-Allow-Methods": "GET,POST",
		"Access-Control-Allow-Headers": "content-type", "Access-Control-Max-Age": "600", "Access-Control-Allow-Credentials": "true"}
	if resp.StatusCode != 200 {
		t.Errorf("preflight: status %d", resp.StatusCode)
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}

	resp, body := e.fetch("/cart", http.Header{"Origin": {"https://shop.example"}})
	if body != "upstream" || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
		resp.Header.Get("Access-Control-Expose-Headers") != "x-request-id" || len(resp.Header["Access-Control-Allow-Origin"]) != 1 {
		t.Errorf("actual request: %q %v", body, resp.Header)
	}

	// An origin not allowed: no CORS headers of the gateway's, and its
	// preflight goes on to the upstream.
	resp, body = e.fetch("/cart", http.Header{"Origin": {"https://evil.example"}})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://upstream.example" || resp.Header.Get("Access-Control-Expose-Headers") != "" {
		t.Errorf("disallowed origin: %v", resp.Header)
	}
	resp = e.do(http.MethodOptions, "", "/cart", http.Header{"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"GET"}}, nil)
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("disallowed preflight answered by the gateway: %v", resp.Header)
	}

	// The route's own policy: any origin, GET only, no credentials.
	resp = e.do(http.MethodOptions, "", "/public/x", http.Header{"Origin": {"https://anyone.example"}, "Access-Control-Request-Method": {"GET"}}, nil)
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://anyone.example" || resp.Header.Get("Access-Control-Allow-Methods") != "GET" ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("route policy preflight: %v", resp.Header)
	}
	// CORS off for the route.
	resp, _ = e.fetch("/internal", http.Header{"Origin": {"https://shop.example"}})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://upstream.example" {
		t.Errorf("disabled route: %v", resp.Header)
	}
}

func TestCORSPolicyRefusals(t *testing.T) {
	for name, p := range map[string]*corsv3.CorsPolicy{
		"shadow":  {ShadowEnabled: &core.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{}}},
		"max age": {MaxAge: "1h"},
		"regex":   {AllowOriginStringMatch: []*matcherv3.StringMatcher{{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "("}}}}},
	} {
		if _, err := compileCorsPolicy(mustAny(t, p)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
