package gateway

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/translator"
)

// Size of the benchmark's config: the performance goal (bench/README.md) is
// stated for 1,000 upstreams and 5,000 routes.
const (
	benchUpstreams       = 1000
	benchVirtualServices = 50
	benchRoutesPerVS     = 100
	benchRoutes          = benchVirtualServices * benchRoutesPerVS
)

// BenchmarkTranslate1kUpstreams5kRoutes times a full config push: stage 1
// (resources → IR) and stage 2 (IR → Envoy resources) for every proxy.
func BenchmarkTranslate1kUpstreams5kRoutes(b *testing.B) {
	res := benchResources(b)

	// Check once, outside the timer, that the config is translated in full,
	// so the benchmark cannot silently time a rejected or empty config.
	routes, clusters := translateAll(b, res)
	if routes != benchRoutes || clusters != benchUpstreams {
		b.Fatalf("translated %d routes and %d clusters, want %d and %d", routes, clusters, benchRoutes, benchUpstreams)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out := Translate(res, nil, Options{})
		for _, p := range out.Proxies {
			if _, err := translator.Translate(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// translateAll runs both stages and counts Envoy routes and clusters; it
// also fails on any report that is not Accepted, since a warning (say, a
// shadowed route) would mean the fixture does not say what it means to.
func translateAll(b *testing.B, res api.Resources) (routes, clusters int) {
	b.Helper()
	out := Translate(res, nil, Options{})
	for _, r := range out.Reports.List() {
		if r.State != api.Accepted {
			b.Fatalf("%s: %s %v", r.Key, r.State, r.Reasons())
		}
	}
	for _, p := range out.Proxies {
		envoy, err := translator.Translate(p)
		if err != nil {
			b.Fatal(err)
		}
		clusters += len(envoy.Clusters)
		for _, rc := range envoy.Routes {
			for _, vh := range rc.VirtualHosts {
				routes += len(vh.Routes)
			}
		}
	}
	return routes, clusters
}

// benchResources builds the config the way a user would write it: static
// IP upstreams and virtual services whose routes mix every matcher kind,
// single and weighted destinations, and the common route options. Paths are
// distinct and fixed-width so no route shadows another.
func benchResources(b *testing.B) api.Resources {
	b.Helper()
	var res api.Resources
	res.Add(&api.Gateway{
		TypeMeta:   metav1.TypeMeta{APIVersion: api.APIVersion, Kind: string(api.KindGateway)},
		ObjectMeta: metav1.ObjectMeta{Name: "http", Namespace: api.DefaultNamespace},
		Spec:       api.GatewaySpec{BindAddress: "127.0.0.1", BindPort: 8080},
	})
	for i := range benchUpstreams {
		res.Add(&api.Upstream{
			TypeMeta:   metav1.TypeMeta{APIVersion: api.APIVersion, Kind: string(api.KindUpstream)},
			ObjectMeta: metav1.ObjectMeta{Name: upstreamName(i), Namespace: api.DefaultNamespace},
			Spec: api.UpstreamSpec{Static: &api.StaticUpstream{Hosts: []api.Host{
				{Addr: fmt.Sprintf("10.%d.%d.1", i/250, i%250), Port: 8080},
				{Addr: fmt.Sprintf("10.%d.%d.2", i/250, i%250), Port: 8080, LoadBalancingWeight: ptr(uint32(2))},
			}}},
		})
	}
	for v := range benchVirtualServices {
		vs := &api.VirtualService{
			TypeMeta:   metav1.TypeMeta{APIVersion: api.APIVersion, Kind: string(api.KindVirtualService)},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("vs-%02d", v), Namespace: api.DefaultNamespace},
			Spec: api.VirtualServiceSpec{VirtualHost: api.VirtualHost{
				Domains: []string{fmt.Sprintf("svc-%02d.example.com", v)},
				Options: &api.VirtualHostOptions{HeaderManipulation: &api.HeaderManipulation{
					ResponseHeadersToAdd: []api.HeaderValueOption{{Header: api.HeaderValue{Key: "x-served-by", Value: "gluon"}}},
				}},
			}},
		}
		for r := range benchRoutesPerVS {
			vs.Spec.VirtualHost.Routes = append(vs.Spec.VirtualHost.Routes, benchRoute(v, r))
		}
		res.Add(vs)
	}
	res.Sort()
	for _, objs := range [][]api.Object{objects(res.Upstreams), objects(res.VirtualServices), objects(res.Gateways)} {
		for _, o := range objs {
			if err := o.Validate(); err != nil {
				b.Fatalf("%s: %v", api.KeyOf(o), err)
			}
		}
	}
	return res
}

// benchRoute returns route r of virtual service v; r%10 picks its shape.
func benchRoute(v, r int) api.Route {
	dest := func(k int) api.Destination {
		return api.Destination{Upstream: &api.ResourceRef{Name: upstreamName((v*benchRoutesPerVS + r + k) % benchUpstreams)}}
	}
	single := &api.RouteAction{Single: ptr(dest(0))}
	base := fmt.Sprintf("/svc-%02d/r-%03d", v, r)
	route := api.Route{RouteAction: single}
	switch r % 10 {
	case 0, 1, 2:
		route.Matchers = []api.Matcher{{Prefix: base + "/"}}
	case 3:
		route.Matchers = []api.Matcher{{Exact: base, Methods: []string{"GET", "HEAD"}}}
	case 4:
		route.Matchers = []api.Matcher{{Regex: base + "/items/[0-9]+"}}
	case 5:
		route.Matchers = []api.Matcher{{Prefix: base + "/", Headers: []api.HeaderMatcher{
			{Name: "X-Tenant", Value: fmt.Sprintf("t-%d", r)},
			{Name: "x-user", Value: "u[0-9]+", Regex: true, InvertMatch: true},
		}}}
	case 6:
		route.Matchers = []api.Matcher{{Prefix: base + "/", CaseSensitive: ptr(false),
			QueryParameters: []api.QueryParameterMatcher{{Name: "v", Value: "2"}}}}
	case 7:
		route.Matchers = []api.Matcher{{Prefix: base + "/"}}
		route.RouteAction = &api.RouteAction{Multi: &api.MultiDestination{Destinations: []api.WeightedDestination{
			{Destination: dest(0), Weight: 80},
			{Destination: dest(1), Weight: 15},
			{Destination: dest(2), Weight: 5},
		}}}
	case 8:
		route.Matchers = []api.Matcher{{Prefix: base + "/"}}
		route.Options = &api.RouteOptions{
			PrefixRewrite: ptr("/v2/"),
			Timeout:       &metav1.Duration{Duration: 2 * time.Second},
			Retries: &api.RetryPolicy{RetryOn: "5xx,connect-failure", NumRetries: 3,
				PerTryTimeout: &metav1.Duration{Duration: 500 * time.Millisecond}},
			HeaderManipulation: &api.HeaderManipulation{
				RequestHeadersToAdd:    []api.HeaderValueOption{{Header: api.HeaderValue{Key: "x-route", Value: base}}},
				RequestHeadersToRemove: []string{"x-internal"},
			},
		}
	case 9:
		route.Matchers = []api.Matcher{{Regex: base + "/([a-z]+)/.*"}}
		route.Options = &api.RouteOptions{
			RegexRewrite:    &api.RegexRewrite{Pattern: api.RegexPattern{Regex: "^/svc-[0-9]+/r-[0-9]+/(.*)$"}, Substitution: "/\\1"},
			AutoHostRewrite: ptr(true),
		}
	}
	return route
}

func upstreamName(i int) string { return fmt.Sprintf("us-%04d", i) }

func objects[T api.Object](in []T) []api.Object {
	out := make([]api.Object, len(in))
	for i, o := range in {
		out[i] = o
	}
	return out
}
