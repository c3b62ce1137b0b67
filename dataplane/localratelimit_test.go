package dataplane

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitcommon "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
)

// limitedRoute is a prefix route with its own local rate limit.
func limitedRoute(t testing.TB, prefix, cluster string, l *localrlv3.LocalRateLimit) *routev3.Route {
	r := prefixRoute(prefix, cluster)
	r.Name = strings.Trim(prefix, "/")
	r.TypedPerFilterConfig = localPerFilter(t, l)
	return r
}

// localResources serves rc on a listener with the local filter in front.
func (e *env) localResources(rc *routev3.RouteConfiguration, b *httptest.Server) resources {
	r := e.basic(rc, map[string]*httptest.Server{"b": b})
	r.listeners = []types.Resource{httpListener(e.t, "http", e.port, rc.Name, localRateLimitHTTPFilter(e.t), routerFilter(e.t))}
	return r
}

// expectStatuses sends one GET to path per wanted status, in order.
func (e *env) expectStatuses(path string, want ...int) {
	e.t.Helper()
	for i, code := range want {
		if resp, body := e.fetch(path, nil); resp.StatusCode != code {
			e.t.Fatalf("%s request %d: status %d (%s), want %d", path, i+1, resp.StatusCode, body, code)
		}
	}
}

func TestLocalRateLimitBucket(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	slow := localLimit(2, 2, 10*time.Second)
	slow.ResponseHeadersToAdd = []*core.HeaderValueOption{headerOption("x-local-rate-limit", "true", core.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)}
	custom := localLimit(1, 1, 10*time.Second)
	custom.Status = &typev3.HttpStatus{Code: typev3.StatusCode(503)}
	e.push(e.localResources(routeConfig("rc", vhost("all", []string{"*"},
		limitedRoute(t, "/slow", "b", slow),
		limitedRoute(t, "/fast", "b", localLimit(1, 1, 200*time.Millisecond)),
		limitedRoute(t, "/custom", "b", custom),
		prefixRoute("/", "b"))), b))

	for i, remaining := range []string{"1", "0"} {
		resp, _ := e.fetch("/slow", nil)
		if resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Limit") != "2" || resp.Header.Get("X-Ratelimit-Remaining") != remaining {
			t.Fatalf("request %d: status %d, headers %v", i+1, resp.StatusCode, resp.Header)
		}
	}
	resp, body := e.fetch("/slow", nil)
	switch {
	case resp.StatusCode != 429 || body != "local_rate_limited":
		t.Fatalf("empty bucket: %d %q", resp.StatusCode, body)
	case resp.Header.Get("X-Local-Rate-Limit") != "true" || resp.Header.Get("Content-Type") != "text/plain":
		t.Errorf("local reply headers: %v", resp.Header)
	case resp.Header.Get("X-Ratelimit-Remaining") != "0" || !slices.Contains([]string{"4", "5"}, resp.Header.Get("X-Ratelimit-Reset")):
		// One token every 5s: the next one is 4 whole seconds and a bit away.
		t.Errorf("x-ratelimit headers: %v", resp.Header)
	}

	// Refilled after fill_interval.
	e.expectStatuses("/fast", 200, 429)
	time.Sleep(250 * time.Millisecond)
	e.expectStatuses("/fast", 200)

	e.expectStatuses("/custom", 200, 503)
	if resp, _ := e.fetch("/other", nil); resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Limit") != "" {
		t.Errorf("route without a limit: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestLocalRateLimitVirtualHostBucket(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	vh := vhost("all", []string{"*"},
		limitedRoute(t, "/own", "b", localLimit(1, 1, 10*time.Second)),
		prefixRoute("/a", "b"), prefixRoute("/b", "b"))
	vh.TypedPerFilterConfig = localPerFilter(t, localLimit(2, 1, 10*time.Second))
	e.push(e.localResources(routeConfig("rc", vh), b))

	// /a and /b share the virtual host's bucket; /own has its own.
	e.expectStatuses("/a", 200)
	e.expectStatuses("/b", 200, 429)
	e.expectStatuses("/a", 429)
	e.expectStatuses("/own", 200, 429)
}

func TestLocalRateLimitBucketAcrossUpdates(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	res := func(max uint32, extra ...*routev3.Route) resources {
		vh := vhost("all", []string{"*"}, append([]*routev3.Route{
			limitedRoute(t, "/a", "b", localLimit(max, 1, 10*time.Second)), prefixRoute("/v", "b")}, extra...)...)
		vh.TypedPerFilterConfig = localPerFilter(t, localLimit(1, 1, 10*time.Second))
		return e.localResources(routeConfig("rc", vh), b)
	}
	e.push(res(2))
	e.expectStatuses("/a", 200, 200, 429)
	e.expectStatuses("/v", 200, 429)

	// An unrelated change keeps both buckets as they are.
	e.push(res(2, prefixRoute("/new", "b")))
	e.expectStatuses("/a", 429)
	e.expectStatuses("/v", 429)

	// New settings start a new, full bucket; the virtual host's stays empty.
	e.push(res(3, prefixRoute("/new", "b")))
	e.expectStatuses("/a", 200, 200, 200, 429)
	e.expectStatuses("/v", 429)
}

func TestLocalRateLimitNACKs(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	good := e.localResources(routeConfig("rc", vhost("all", []string{"*"},
		limitedRoute(t, "/a", "b", localLimit(100, 100, time.Second)))), b)
	e.push(good)

	routeWith := func(l *localrlv3.LocalRateLimit) resources {
		r := good
		r.routes = []types.Resource{routeConfig("rc", vhost("all", []string{"*"}, limitedRoute(t, "/a", "b", l)))}
		return r
	}
	noBucket := localLimit(1, 1, time.Second)
	noBucket.TokenBucket = nil
	fast := localLimit(1, 1, 10*time.Millisecond)
	descriptors := localLimit(1, 1, time.Second)
	descriptors.Descriptors = []*ratelimitcommon.LocalRateLimitDescriptor{{
		Entries:     []*ratelimitcommon.RateLimitDescriptor_Entry{{Key: "k", Value: "v"}},
		TokenBucket: descriptors.TokenBucket,
	}}
	listenerBucket := good
	listenerBucket.listeners = []types.Resource{httpListener(t, "http", e.port, "rc", &hcmv3.HttpFilter{
		Name: localRateLimitName, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, localLimit(1, 1, time.Second))},
	}, routerFilter(t))}

	for _, c := range []struct {
		name     string
		res      resources
		typeURL  string
		contains string
	}{
		{"no bucket", routeWith(noBucket), resourcev3.RouteType, "token bucket must be set"},
		{"fill interval under 50ms", routeWith(fast), resourcev3.RouteType, "fill timer must be >= 50ms"},
		{"descriptors", routeWith(descriptors), resourcev3.RouteType, "unsupported field(s) descriptors"},
		{"listener bucket", listenerBucket, resourcev3.ListenerType, "token_bucket (buckets are configured per route or virtual host"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if nack := e.expectNACK(c.res, c.typeURL); !strings.Contains(nack, c.contains) {
				t.Errorf("NACK %q does not mention %q", nack, c.contains)
			}
			e.expectStatuses("/a", 200) // the previous config still serves
		})
	}
}
