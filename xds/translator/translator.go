// Package translator is translation stage 2: it turns an ir.Proxy into Envoy
// resources. One file per feature; every function is a pure builder, and
// every emitted resource passes its generated ValidateAll.
package translator

import (
	"errors"
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// Resources is the Envoy configuration of one proxy, in a stable order.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
}

// ByType returns the resources keyed by xDS type URL, as the snapshot cache
// wants them.
func (r *Resources) ByType() map[string][]types.Resource {
	out := map[string][]types.Resource{
		resourcev3.ListenerType: nil, resourcev3.RouteType: nil,
		resourcev3.ClusterType: nil, resourcev3.EndpointType: nil,
	}
	for _, l := range r.Listeners {
		out[resourcev3.ListenerType] = append(out[resourcev3.ListenerType], l)
	}
	for _, rc := range r.Routes {
		out[resourcev3.RouteType] = append(out[resourcev3.RouteType], rc)
	}
	for _, c := range r.Clusters {
		out[resourcev3.ClusterType] = append(out[resourcev3.ClusterType], c)
	}
	for _, e := range r.Endpoints {
		out[resourcev3.EndpointType] = append(out[resourcev3.EndpointType], e)
	}
	return out
}

// Translate builds the Envoy resources of a proxy. It returns an error, and
// no resources, when the IR is invalid or any emitted resource fails
// validation: an invalid snapshot must never be served.
func Translate(p *ir.Proxy) (*Resources, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("proxy %q: invalid IR: %w", p.Name, err)
	}
	out := &Resources{}
	var errs []error
	for _, c := range p.Clusters {
		cl, err := cluster(c)
		errs = append(errs, err)
		out.Clusters = append(out.Clusters, cl)
		if c.Discovery == ir.DiscoveryEDS {
			out.Endpoints = append(out.Endpoints, loadAssignment(c))
		}
	}
	if svc := p.RateLimitService; svc != nil && svc.Address != "" {
		c, err := rateLimitServiceCluster(svc)
		errs = append(errs, err)
		out.Clusters = append(out.Clusters, c)
	}
	for _, l := range p.Listeners {
		lis, err := listener(p, l)
		errs = append(errs, err)
		out.Listeners = append(out.Listeners, lis)
		rc, err := routeConfiguration(l)
		errs = append(errs, err)
		out.Routes = append(out.Routes, rc)
	}
	errs = append(errs, validateAll(out))
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("proxy %q: %w", p.Name, err)
	}
	return out, nil
}
