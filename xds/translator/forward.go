package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// routeAction forwards to one cluster or splits across weighted clusters,
// with the route's rewrites, timeout, retries and mirrors.
func routeAction(f *ir.Forward, mem *routeMessages) *routev3.RouteAction {
	a := mem.actions.next()
	if len(f.Destinations) == 1 {
		cluster := mem.clusters.next()
		cluster.Cluster = f.Destinations[0].Cluster
		a.ClusterSpecifier = cluster
	} else {
		wc := &routev3.WeightedCluster{}
		for _, d := range f.Destinations {
			wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{Name: d.Cluster, Weight: wrapperspb.UInt32(d.Weight)})
		}
		a.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
	}
	a.Timeout = optDuration(f.Timeout)
	applyRewrites(a, f)
	a.RetryPolicy = retryPolicy(f.Retry)
	a.RequestMirrorPolicies = requestMirrorPolicies(f.Mirrors)
	return a
}
