package translator

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

var lbPolicies = map[ir.LBPolicy]clusterv3.Cluster_LbPolicy{
	ir.LBRoundRobin:   clusterv3.Cluster_ROUND_ROBIN,
	ir.LBLeastRequest: clusterv3.Cluster_LEAST_REQUEST,
	ir.LBRandom:       clusterv3.Cluster_RANDOM,
	ir.LBRingHash:     clusterv3.Cluster_RING_HASH,
	ir.LBMaglev:       clusterv3.Cluster_MAGLEV,
}

// loadBalancingFeature sets a cluster's balancing policy, and the hash
// policies of the routes that feed hashing balancers.
var loadBalancingFeature = feature{
	name:    "load balancing",
	cluster: loadBalancerConfig,
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) error {
		action := out.GetRoute()
		if action == nil || r.Forward == nil {
			return nil
		}
		for _, p := range r.Forward.HashPolicies {
			action.HashPolicy = append(action.HashPolicy, hashPolicy(p))
		}
		return nil
	},
}

func loadBalancerConfig(out *clusterv3.Cluster, c *ir.Cluster) error {
	lb := c.LoadBalancer
	if lb == nil {
		return nil
	}
	out.LbPolicy = lbPolicies[lb.Policy]
	switch lb.Policy {
	case ir.LBLeastRequest:
		if lb.ChoiceCount != nil {
			out.LbConfig = &clusterv3.Cluster_LeastRequestLbConfig_{LeastRequestLbConfig: &clusterv3.Cluster_LeastRequestLbConfig{
				ChoiceCount: wrapperspb.UInt32(*lb.ChoiceCount)}}
		}
	case ir.LBRingHash:
		if lb.MinimumRingSize != nil || lb.MaximumRingSize != nil {
			out.LbConfig = &clusterv3.Cluster_RingHashLbConfig_{RingHashLbConfig: &clusterv3.Cluster_RingHashLbConfig{
				MinimumRingSize: uint64Value(lb.MinimumRingSize), MaximumRingSize: uint64Value(lb.MaximumRingSize)}}
		}
	}
	if lb.HealthyPanicThreshold != nil {
		out.CommonLbConfig = &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{Value: *lb.HealthyPanicThreshold}}
	}
	return nil
}

func hashPolicy(p ir.HashPolicy) *routev3.RouteAction_HashPolicy {
	out := &routev3.RouteAction_HashPolicy{Terminal: p.Terminal}
	switch {
	case p.Header != "":
		out.PolicySpecifier = &routev3.RouteAction_HashPolicy_Header_{Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: p.Header}}
	case p.Cookie != nil:
		c := &routev3.RouteAction_HashPolicy_Cookie{Name: p.Cookie.Name, Path: p.Cookie.Path, Ttl: optDuration(p.Cookie.TTL)}
		out.PolicySpecifier = &routev3.RouteAction_HashPolicy_Cookie_{Cookie: c}
	default:
		out.PolicySpecifier = &routev3.RouteAction_HashPolicy_ConnectionProperties_{
			ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true}}
	}
	return out
}
