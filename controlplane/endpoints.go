package controlplane

import (
	"context"
	"reflect"
	"slices"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/gateway"
	"github.com/gluon-gateway/gluon/xds/ir"
	"github.com/gluon-gateway/gluon/xds/translator"
)

// servedProxy is what the last translation served a proxy: its IR and its
// resources, which an endpoint change alone patches.
type servedProxy struct {
	ir     *ir.Proxy
	byType map[string][]types.Resource
}

// patchConsulEndpoints serves the consul upstreams' endpoints as they are
// now to every proxy, without translating again: when Consul's instances
// changed but not its services, the clusters' load assignments are all
// that differ, and only they are built. A health change then costs a
// fraction of a translation, and the other types keep their versions.
func (p *Pipeline) patchConsulEndpoints(ctx context.Context) {
	p.translateMu.Lock()
	defer p.translateMu.Unlock()
	res := p.resourcesLocked()
	consul := map[string]*api.ConsulUpstream{}
	for _, u := range res.Upstreams {
		if u.Spec.Consul != nil {
			consul[gateway.ClusterName(api.ResourceRef{Namespace: u.Namespace, Name: u.Name})] = u.Spec.Consul
		}
	}
	for name, served := range p.served {
		next, changed := served.withEndpoints(func(c *ir.Cluster) []ir.Endpoint {
			if cu := consul[c.Name]; cu != nil && c.Discovery == ir.DiscoveryEDS {
				return gateway.ConsulEndpoints(&res, cu)
			}
			return c.Endpoints
		})
		if !changed {
			continue
		}
		version, err := p.server.Set(ctx, name, next.byType)
		if err != nil {
			p.log.Error("endpoints refused; proxy keeps its last good snapshot", "proxy", name, "err", err)
			p.metrics.pushErrors.WithLabelValues(name).Inc()
			continue
		}
		p.served[name] = next
		p.metrics.pushes.WithLabelValues(name).Inc()
		p.log.Debug("serving new endpoints", "proxy", name, "version", version)
	}
}

// withEndpoints is sp with each cluster's endpoints as endpoints says; it
// reports whether any changed. A cluster stage 2 left out stays out.
func (sp servedProxy) withEndpoints(endpoints func(*ir.Cluster) []ir.Endpoint) (servedProxy, bool) {
	loads := sp.byType[resourcev3.EndpointType]
	at := make(map[string]int, len(loads))
	for i, r := range loads {
		at[r.(*endpointv3.ClusterLoadAssignment).ClusterName] = i
	}
	var clusters []*ir.Cluster
	var newLoads []types.Resource
	for i, c := range sp.ir.Clusters {
		want := endpoints(c)
		j, served := at[c.Name]
		if !served || reflect.DeepEqual(want, c.Endpoints) {
			continue
		}
		changed := *c
		changed.Endpoints = want
		cla, err := translator.LoadAssignment(&changed)
		if err != nil {
			continue // as stage 2 would, the cluster keeps what it had
		}
		if clusters == nil {
			clusters, newLoads = slices.Clone(sp.ir.Clusters), slices.Clone(loads)
		}
		clusters[i], newLoads[j] = &changed, cla
	}
	if clusters == nil {
		return sp, false
	}
	proxy := *sp.ir
	proxy.Clusters = clusters
	byType := make(map[string][]types.Resource, len(sp.byType))
	for t, rs := range sp.byType {
		byType[t] = rs
	}
	byType[resourcev3.EndpointType] = newLoads
	return servedProxy{ir: &proxy, byType: byType}, true
}
