package translator

import (
	"fmt"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// Same size as gateway's BenchmarkTranslate1kUpstreams5kRoutes, so the two
// show how a config push splits between stage 1 and stage 2.
const (
	benchClusters     = 1000
	benchVirtualHosts = 50
	benchRoutesPerVH  = 100
	benchRoutes       = benchVirtualHosts * benchRoutesPerVH
)

// BenchmarkTranslateProxy1kClusters5kRoutes times stage 2 alone: one proxy's
// IR to validated Envoy resources.
func BenchmarkTranslateProxy1kClusters5kRoutes(b *testing.B) {
	p := benchProxy()

	// Check once, outside the timer, that everything is translated, so the
	// benchmark cannot silently time a refused IR.
	res, err := Translate(p)
	if err != nil {
		b.Fatal(err)
	}
	routes := 0
	for _, rc := range res.Routes {
		for _, vh := range rc.VirtualHosts {
			routes += len(vh.Routes)
		}
	}
	if routes != benchRoutes || len(res.Clusters) != benchClusters || len(res.Endpoints) != benchClusters {
		b.Fatalf("translated %d routes, %d clusters, %d load assignments; want %d, %d, %d",
			routes, len(res.Clusters), len(res.Endpoints), benchRoutes, benchClusters, benchClusters)
	}

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Translate(p); err != nil {
			b.Fatal(err)
		}
	}
}

// benchProxy builds the IR stage 1 would for the gateway benchmark's
// resources: EDS clusters of two IP endpoints, and routes that mix every
// match kind, weighted destinations, rewrites, timeouts, retries and headers.
func benchProxy() *ir.Proxy {
	p := &ir.Proxy{Name: "gateway-proxy"}
	for i := range benchClusters {
		p.Clusters = append(p.Clusters, &ir.Cluster{
			Name:           clusterName(i),
			Discovery:      ir.DiscoveryEDS,
			ConnectTimeout: ir.Duration(5 * time.Second),
			Endpoints: []ir.Endpoint{
				{Host: fmt.Sprintf("10.%d.%d.1", i/250, i%250), Port: 8080, Weight: 1},
				{Host: fmt.Sprintf("10.%d.%d.2", i/250, i%250), Port: 8080, Weight: 2},
			},
		})
	}
	l := &ir.Listener{Name: "listener-127.0.0.1-8080", Address: "127.0.0.1", Port: 8080}
	for v := range benchVirtualHosts {
		vh := &ir.VirtualHost{
			Name:    fmt.Sprintf("default_vs-%02d", v),
			Domains: []string{fmt.Sprintf("svc-%02d.example.com", v)},
			Headers: &ir.HeaderMutation{AddResponse: []ir.HeaderValue{{Name: "x-served-by", Value: "gluon", Append: true}}},
		}
		for r := range benchRoutesPerVH {
			vh.Routes = append(vh.Routes, benchRoute(v, r))
		}
		l.VirtualHosts = append(l.VirtualHosts, vh)
	}
	p.Listeners = []*ir.Listener{l}
	return p
}

// benchRoute returns route r of virtual host v; r%10 picks its shape.
func benchRoute(v, r int) *ir.Route {
	dest := func(k int, w uint32) ir.Destination {
		return ir.Destination{Cluster: clusterName((v*benchRoutesPerVH + r + k) % benchClusters), Weight: w}
	}
	base := fmt.Sprintf("/svc-%02d/r-%03d", v, r)
	route := &ir.Route{
		Name:    fmt.Sprintf("default_vs-%02d-route-%d-matcher-0", v, r),
		Match:   ir.Match{PathPrefix: base + "/"},
		Forward: &ir.Forward{Destinations: []ir.Destination{dest(0, 1)}},
	}
	switch r % 10 {
	case 3:
		route.Match = ir.Match{PathExact: base, Methods: []string{"GET", "HEAD"}}
	case 4:
		route.Match = ir.Match{PathRegex: base + "/items/[0-9]+"}
	case 5:
		route.Match.Headers = []ir.HeaderMatch{
			{Name: "x-tenant", Exact: fmt.Sprintf("t-%d", r)},
			{Name: "x-user", Regex: "u[0-9]+", Invert: true},
		}
	case 6:
		route.Match.CaseInsensitive = true
		route.Match.QueryParams = []ir.QueryMatch{{Name: "v", Exact: "2"}}
	case 7:
		route.Forward.Destinations = []ir.Destination{dest(0, 80), dest(1, 15), dest(2, 5)}
	case 8:
		prefix := "/v2/"
		timeout, perTry := ir.Duration(2*time.Second), ir.Duration(500*time.Millisecond)
		route.Forward.PrefixRewrite = &prefix
		route.Forward.Timeout = &timeout
		route.Forward.Retry = &ir.Retry{RetryOn: "5xx,connect-failure", NumRetries: 3, PerTryTimeout: &perTry}
		route.Headers = &ir.HeaderMutation{
			AddRequest:    []ir.HeaderValue{{Name: "x-route", Value: base, Append: true}},
			RemoveRequest: []string{"x-internal"},
		}
	case 9:
		route.Match = ir.Match{PathRegex: base + "/([a-z]+)/.*"}
		route.Forward.RegexRewrite = &ir.RegexRewrite{Pattern: "^/svc-[0-9]+/r-[0-9]+/(.*)$", Substitution: "/\\1"}
		route.Forward.AutoHostRewrite = true
	}
	return route
}

func clusterName(i int) string { return fmt.Sprintf("us-%04d_default", i) }
