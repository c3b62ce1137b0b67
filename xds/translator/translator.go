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
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
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
	// Secrets are served over SDS: HTTPS certificates and client CAs.
	Secrets []*tlsv3.Secret
	// Problems are the parts of the proxy left out.
	Problems []Problem
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
	for _, s := range r.Secrets {
		out[resourcev3.SecretType] = append(out[resourcev3.SecretType], s)
	}
	return out
}

// Problem is a part of the proxy that stage 2 could not build, or that
// fails Envoy's validation: it is left out, and reported at its origin.
type Problem struct {
	Origin ir.Origin // zero when the IR names none
	Err    error
}

// Translate builds the Envoy resources of a proxy, best effort: a cluster,
// listener, virtual host or route that cannot be built, or that Envoy would
// reject, is left out and named in Resources.Problems, and the rest is
// built. Only an IR that breaks stage 2's invariants as a whole (duplicate
// names, a rate-limit service that cannot be reached) is an error, with no
// resources: an invalid snapshot must never be served.
func Translate(p *ir.Proxy) (*Resources, error) {
	if err := p.ValidateNames(); err != nil {
		return nil, fmt.Errorf("proxy %q: invalid IR: %w", p.Name, err)
	}
	out := &Resources{}
	clusters := map[string]bool{}
	for _, c := range p.Clusters {
		if err := out.addCluster(c); err != nil {
			out.leaveOut(c.Origin, fmt.Errorf("cluster %q: %w", c.Name, err))
			continue
		}
		clusters[c.Name] = true
	}
	for _, f := range features {
		if f.clusters == nil {
			continue
		}
		cs, err := f.clusters(p)
		for _, c := range cs {
			err = errors.Join(err, c.ValidateAll())
		}
		if err != nil {
			return nil, fmt.Errorf("proxy %q: %s: %w", p.Name, f.name, err)
		}
		out.Clusters = append(out.Clusters, cs...)
	}
	for _, l := range p.Listeners {
		out.addListener(p, l, clusters)
	}
	secrets, err := sdsSecrets(p)
	if err != nil {
		return nil, fmt.Errorf("proxy %q: %w", p.Name, err)
	}
	out.Secrets = secrets
	return out, nil
}

// leaveOut records a part left out.
func (r *Resources) leaveOut(origin ir.Origin, err error) {
	r.Problems = append(r.Problems, Problem{Origin: origin, Err: err})
}

// addCluster builds a cluster and its endpoints, if it has EDS ones.
func (r *Resources) addCluster(c *ir.Cluster) error {
	if err := c.Validate(); err != nil {
		return err
	}
	cl, err := cluster(c)
	if err != nil {
		return err
	}
	for _, f := range features {
		if f.cluster == nil {
			continue
		}
		if err := f.cluster(cl, c); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if err := cl.ValidateAll(); err != nil {
		return err
	}
	if c.Discovery == ir.DiscoveryEDS {
		cla, err := LoadAssignment(c)
		if err != nil {
			return err
		}
		r.Endpoints = append(r.Endpoints, cla)
	}
	r.Clusters = append(r.Clusters, cl)
	return nil
}

// addListener builds a listener and its route configuration; the routes
// and virtual hosts that cannot be built are left out of it, the listener
// as a whole when it cannot be built itself.
func (r *Resources) addListener(p *ir.Proxy, l *ir.Listener, clusters map[string]bool) {
	lis, err := listener(p, l)
	if err == nil {
		err = lis.ValidateAll()
	}
	var rcs []*routev3.RouteConfiguration
	if err == nil {
		rcs, err = r.listenerRoutes(l, clusters)
	}
	if err != nil {
		r.leaveOut(l.Origin, err)
		return
	}
	r.Listeners = append(r.Listeners, lis)
	r.Routes = append(r.Routes, rcs...)
}

// listenerRoutes are the listener's route configurations: one, or one per
// filter chain of an HTTPS listener with that chain's virtual hosts.
func (r *Resources) listenerRoutes(l *ir.Listener, clusters map[string]bool) ([]*routev3.RouteConfiguration, error) {
	if len(l.TCPHosts) > 0 {
		return nil, nil // TCP: no routes
	}
	if len(l.TLS) == 0 {
		rc, err := r.routeConfiguration(l.Name, l.VirtualHosts, clusters)
		return []*routev3.RouteConfiguration{rc}, err
	}
	out := make([]*routev3.RouteConfiguration, 0, len(l.TLS))
	for _, c := range l.TLS {
		var vhosts []*ir.VirtualHost
		for _, vh := range l.VirtualHosts {
			if vh.TLSChain == c.Name {
				vhosts = append(vhosts, vh)
			}
		}
		rc, err := r.routeConfiguration(chainRouteName(l, c), vhosts, clusters)
		if err != nil {
			return nil, err
		}
		out = append(out, rc)
	}
	return out, nil
}
