package controlplane

import (
	"context"
	"slices"

	"github.com/gluon-gateway/gluon/api"
	udsconsul "github.com/gluon-gateway/gluon/uds/consul"
)

// consulServices are the services upstream discovery found in Consul, and
// how their Upstreams are made.
type consulServices struct {
	services []api.ConsulService
	// upstreams are made once per change: every translation reads them.
	upstreams []*api.Upstream
}

// SetConsulServices takes what Consul upstream discovery found: every
// service becomes an Upstream "consul-<service>" (and, if o says, one per
// tag set) unless one of that name is configured, and consul upstreams
// take their healthy instances as endpoints. It is translated and served
// at once.
func (p *Pipeline) SetConsulServices(ctx context.Context, o udsconsul.UpstreamOptions, services []api.ConsulService) {
	found := &consulServices{services: services, upstreams: udsconsul.Upstreams(services, o)}
	var prev *consulServices
	p.change(ctx, func() { prev, p.consul = p.consul, found })
	if prev != nil && sameConsulUpstreams(prev.upstreams, found.upstreams) {
		// The same services: only instances changed.
		p.patchConsulEndpoints(ctx)
		return
	}
	p.translate(ctx)
}

// addTo returns res with the services (for consul upstreams' endpoints)
// and the Upstreams discovered, in new slices; nil c adds nothing.
func (c *consulServices) addTo(res api.Resources) api.Resources {
	if c == nil {
		return res
	}
	res.ConsulServices = c.services
	taken := map[api.ResourceRef]bool{}
	for _, u := range res.Upstreams {
		taken[api.ResourceRef{Namespace: u.Namespace, Name: u.Name}] = true
	}
	upstreams := slices.Clone(res.Upstreams)
	for _, u := range c.upstreams {
		if !taken[api.ResourceRef{Namespace: u.Namespace, Name: u.Name}] {
			upstreams = append(upstreams, u)
		}
	}
	api.SortByKey(upstreams)
	res.Upstreams = upstreams
	return res
}

// sameConsulUpstreams reports whether discovery made the same Upstreams:
// made from service names and tag sets alone, they match by those.
func sameConsulUpstreams(a, b []*api.Upstream) bool {
	return slices.EqualFunc(a, b, func(x, y *api.Upstream) bool {
		return x.Name == y.Name && x.Spec.Consul.ServiceName == y.Spec.Consul.ServiceName &&
			slices.Equal(x.Spec.Consul.ServiceTags, y.Spec.Consul.ServiceTags)
	})
}
