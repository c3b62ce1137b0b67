package translator

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// requestMirrorPolicies is Gloo's shadowing: Envoy sends a copy of each
// request to the mirror cluster, fire and forget, with "-shadow" appended to
// its host. A policy without runtime_fraction mirrors every request, so the
// fraction is only set below 100 percent; leaving it out then keeps the
// common case's config (and its diff) small.
func requestMirrorPolicies(mirrors []ir.Mirror) []*routev3.RouteAction_RequestMirrorPolicy {
	var out []*routev3.RouteAction_RequestMirrorPolicy
	for _, m := range mirrors {
		p := &routev3.RouteAction_RequestMirrorPolicy{Cluster: m.Cluster}
		if m.Percent < 100 {
			p.RuntimeFraction = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{
				Numerator: m.Percent, Denominator: typev3.FractionalPercent_HUNDRED,
			}}
		}
		out = append(out, p)
	}
	return out
}
