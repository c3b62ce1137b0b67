package gateway

import (
	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// grpcTimeoutHeaderMax is how far route r lets a gRPC request's
// grpc-timeout set its timeout: as its maxStreamDuration says, else
// uncapped when every upstream it forwards to speaks HTTP/2 (gRPC), else
// not at all.
func (t *translation) grpcTimeoutHeaderMax(ns string, r *api.Route) *ir.Duration {
	if msd := r.Options.GetMaxStreamDuration(); msd != nil {
		return optDuration(msd.GrpcTimeoutHeaderMax)
	}
	for _, d := range destinationsOf(r.RouteAction) {
		if u, ok := t.upstreams[d.Upstream.Ref(ns)]; !ok || !u.Spec.UseHTTP2 {
			return nil
		}
	}
	return ir.NewDuration(0)
}

// destinationsOf lists a route action's destinations, single or multi.
func destinationsOf(a *api.RouteAction) []api.Destination {
	if a.Single != nil {
		return []api.Destination{*a.Single}
	}
	var out []api.Destination
	if a.Multi != nil {
		for _, d := range a.Multi.Destinations {
			out = append(out, d.Destination)
		}
	}
	return out
}
