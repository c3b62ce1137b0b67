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
	upstreams udsconsul.UpstreamOptions
	services  []api.ConsulService
}

// SetConsulServices takes what Consul upstream discovery found: every
// service becomes an Upstream "consul-<service>" (and, if o says, one per
// tag set) unless one of that name is configured, and consul upstreams
// take their healthy instances as endpoints. It is translated and served
// at once.
func (p *Pipeline) SetConsulServices(ctx context.Context, o udsconsul.UpstreamOptions, services []api.ConsulService) {
	p.change(ctx, func() { p.consul = &consulServices{upstreams: o, services: services} })
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
	for _, u := range udsconsul.Upstreams(c.services, c.upstreams) {
		if !taken[api.ResourceRef{Namespace: u.Namespace, Name: u.Name}] {
			upstreams = append(upstreams, u)
		}
	}
	api.SortByKey(upstreams)
	res.Upstreams = upstreams
	return res
}
