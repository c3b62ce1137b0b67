package dataplane

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestRateLimitDescriptors(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	rls := startFakeRLS(t)
	stage1 := rateLimit(genericKey("", "late"))
	stage1.Stage = wrapperspb.UInt32(1)
	vh := vhost("all", []string{"*"},
		withRateLimits(prefixRoute("/generic", "b"), false, rateLimit(genericKey("", "v1")), rateLimit(genericKey("svc", "x"))),
		withRateLimits(prefixRoute("/remote", "b"), false, rateLimit(remoteAddress())),
		withRateLimits(prefixRoute("/header", "b"), false, rateLimit(requestHeader("x-user", "user", false), genericKey("k", "v"))),
		withRateLimits(prefixRoute("/skip", "b"), false, rateLimit(requestHeader("x-user", "user", true), genericKey("k", "v"))),
		withRateLimits(prefixRoute("/match", "b"), false,
			rateLimit(headerValueMatch("admin", true, exactHeader("x-role", "admin"))),
			rateLimit(headerValueMatch("not-admin", false, exactHeader("x-role", "admin")))),
		withRateLimits(prefixRoute("/include", "b"), true, rateLimit(genericKey("own", "1"))),
		withRateLimits(prefixRoute("/stage1", "b"), false, stage1),
		directRoute("/direct", 200, "direct"),
		prefixRoute("/", "b"))
	vh.RateLimits = []*routev3.RateLimit{rateLimit(genericKey("vh", "1"))}
	e.push(e.rateLimitResources(routeConfig("rc", vh), map[string]*httptest.Server{"b": b}, rls.addr, time.Second, false))

	for _, c := range []struct {
		path string
		hdr  http.Header
		want []string // descriptors; nil: the service is not called
	}{
		{"/generic", nil, []string{"generic_key=v1", "svc=x"}},
		{"/remote", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, []string{"remote_address=127.0.0.1"}},
		{"/header", http.Header{"X-User": {"alice"}}, []string{"user=alice,k=v"}},
		{"/header", nil, nil},
		{"/skip", nil, []string{"k=v"}},
		{"/match", http.Header{"X-Role": {"admin"}}, []string{"header_match=admin"}},
		{"/match", nil, []string{"header_match=not-admin"}},
		{"/include", nil, []string{"own=1", "vh=1"}},
		{"/other", nil, []string{"vh=1"}},
		{"/stage1", nil, nil},
		{"/direct", nil, nil},
	} {
		s, _ := e.call("GET", "", c.path, c.hdr, 200)
		if c.path != "/direct" && s.Backend != "b" {
			t.Errorf("%s: not proxied: %+v", c.path, s)
		}
		reqs := rls.take()
		var got []string
		if len(reqs) > 1 {
			t.Errorf("%s: %d calls", c.path, len(reqs))
		}
		if len(reqs) == 1 {
			got = descriptorsOf(reqs[0])
			if reqs[0].GetDomain() != "gluon" || reqs[0].GetHitsAddend() != 0 {
				t.Errorf("%s: domain %q hits_addend %d", c.path, reqs[0].GetDomain(), reqs[0].GetHitsAddend())
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %v: descriptors %q, want %q", c.path, c.hdr, got, c.want)
		}
	}
}

func TestRateLimitAnswers(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	rls := startFakeRLS(t)
	rc := routeConfig("rc", vhost("all", []string{"*"},
		withRateLimits(prefixRoute("/", "b"), false, rateLimit(genericKey("k", "v")), rateLimit(remoteAddress()))))
	res := e.rateLimitResources(rc, map[string]*httptest.Server{"b": b}, rls.addr, time.Second, false)
	e.push(res)

	rls.set(func(*rlsv3.RateLimitRequest) *rlsv3.RateLimitResponse {
		return &rlsv3.RateLimitResponse{
			OverallCode: rlsv3.RateLimitResponse_OVER_LIMIT,
			Statuses: []*rlsv3.RateLimitResponse_DescriptorStatus{
				okStatus(1000, 500, rlsv3.RateLimitResponse_RateLimit_HOUR, 40*time.Minute),
				overLimitStatus(10, 0, rlsv3.RateLimitResponse_RateLimit_MINUTE, 30*time.Second),
			},
			ResponseHeadersToAdd: []*core.HeaderValue{{Key: "retry-after", Value: "30"}},
		}
	}, 0)
	resp, body := e.fetch("/x", nil)
	h := resp.Header
	switch {
	case resp.StatusCode != 429 || strings.Contains(body, `"backend"`):
		t.Fatalf("over limit: %d %q", resp.StatusCode, body)
	case h.Get("X-Envoy-Ratelimited") != "true" || h.Get("Retry-After") != "30":
		t.Errorf("over limit headers: %v", h)
	case h.Get("X-Ratelimit-Limit") != "10, 1000;w=3600, 10;w=60" || h.Get("X-Ratelimit-Remaining") != "0" || h.Get("X-Ratelimit-Reset") != "30":
		t.Errorf("x-ratelimit headers: %v", h)
	}

	rls.set(func(*rlsv3.RateLimitRequest) *rlsv3.RateLimitResponse {
		return &rlsv3.RateLimitResponse{
			OverallCode:          rlsv3.RateLimitResponse_OK,
			Statuses:             []*rlsv3.RateLimitResponse_DescriptorStatus{okStatus(10, 7, rlsv3.RateLimitResponse_RateLimit_SECOND, time.Second)},
			RequestHeadersToAdd:  []*core.HeaderValue{{Key: "x-ratelimit-tier", Value: "gold"}},
			ResponseHeadersToAdd: []*core.HeaderValue{{Key: "x-rls", Value: "ok"}},
		}
	}, 0)
	s, resp := e.call("GET", "", "/x", nil, 200)
	h = resp.Header
	if s.Header.Get("X-Ratelimit-Tier") != "gold" || h.Get("X-Rls") != "ok" || h.Get("X-Envoy-Ratelimited") != "" ||
		h.Get("X-Ratelimit-Limit") != "10, 10;w=1" || h.Get("X-Ratelimit-Remaining") != "7" || h.Get("X-Ratelimit-Reset") != "1" {
		t.Errorf("allowed: upstream saw %v; response headers %v", s.Header, h)
	}

	// An update that leaves the cluster alone keeps its gRPC connection.
	res.routes = []types.Resource{routeConfig("rc", vhost("all", []string{"*"},
		withRateLimits(prefixRoute("/", "b"), false, rateLimit(genericKey("k", "v2")))))}
	e.push(res)
	e.call("GET", "", "/x", nil, 200)
	if got := descriptorsOf(rls.take()[2]); !slices.Equal(got, []string{"k=v2"}) || rls.conns.Load() != 1 {
		t.Errorf("after the update: descriptors %q over %d connections, want one", got, rls.conns.Load())
	}
}

func TestRateLimitFailureModes(t *testing.T) {
	b := backend(t, "b")
	rls := startFakeRLS(t)
	rls.set(nil, 2*time.Second) // far slower than the filter's 50ms timeout
	down := refusingAddr(t)
	rc := routeConfig("rc", vhost("all", []string{"*"}, withRateLimits(prefixRoute("/", "b"), false, rateLimit(genericKey("k", "v")))))
	for _, c := range []struct {
		name string
		addr string
		deny bool
		want int
	}{
		{"down, allow", down, false, 200},
		{"down, deny", down, true, 500},
		{"slow, allow", rls.addr, false, 200},
		{"slow, deny", rls.addr, true, 500},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.push(e.rateLimitResources(rc, map[string]*httptest.Server{"b": b}, c.addr, 50*time.Millisecond, c.deny))
			start := time.Now()
			if resp, body := e.fetch("/", nil); resp.StatusCode != c.want {
				t.Errorf("status %d (%q), want %d", resp.StatusCode, body, c.want)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v: the filter's timeout is 50ms", d)
			}
		})
	}
}

// TestRateLimitLocalFirst checks the order of the two filters: a request
// the local bucket refuses never reaches the rate limit service.
func TestRateLimitLocalFirst(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	rls := startFakeRLS(t)
	r := withRateLimits(prefixRoute("/", "b"), false, rateLimit(genericKey("k", "v")))
	r.TypedPerFilterConfig = localPerFilter(t, localLimit(1, 1, 10*time.Second))
	e.push(e.rateLimitResources(routeConfig("rc", vhost("all", []string{"*"}, r)), map[string]*httptest.Server{"b": b}, rls.addr, time.Second, false))
	e.expectStatuses("/", 200, 429)
	if n := len(rls.take()); n != 1 {
		t.Errorf("rate limit service called %d times, want 1", n)
	}
}

func TestRateLimitNACKs(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	rls := startFakeRLS(t)
	backends := map[string]*httptest.Server{"b": b}
	withActions := func(actions ...*routev3.RateLimit_Action) resources {
		rc := routeConfig("rc", vhost("all", []string{"*"}, withRateLimits(prefixRoute("/", "b"), false, rateLimit(actions...))))
		return e.rateLimitResources(rc, backends, rls.addr, time.Second, false)
	}
	good := withActions(genericKey("k", "v"))
	e.push(good)

	internal := good
	cfg := &ratelimitv3.RateLimit{}
	if err := rateLimitHTTPFilter(t, "rls", time.Second, false).GetTypedConfig().UnmarshalTo(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.RequestType = "internal"
	internal.listeners = []types.Resource{httpListener(t, "http", e.port, "rc", &hcmv3.HttpFilter{
		Name: wellknown.HTTPRateLimit, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, cfg)},
	}, routerFilter(t))}

	for _, c := range []struct {
		name     string
		res      resources
		typeURL  string
		contains string
	}{
		{"unknown action", withActions(genericKey("k", "v"), &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_DestinationCluster_{
			DestinationCluster: &routev3.RateLimit_Action_DestinationCluster{}}}),
			resourcev3.RouteType, "rate limit action destination_cluster is not supported"},
		{"request type", internal, resourcev3.ListenerType, `request_type "internal" is not supported`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if nack := e.expectNACK(c.res, c.typeURL); !strings.Contains(nack, c.contains) {
				t.Errorf("NACK %q does not mention %q", nack, c.contains)
			}
			e.call("GET", "", "/", nil, 200)
		})
	}
}
