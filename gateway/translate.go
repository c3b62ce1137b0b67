// Package gateway is translation stage 1: it turns Gluon resources into one
// ir.Proxy per proxy name, plus a report per resource. It is a pure
// function of its input: no goroutines, no I/O, sorted output.
package gateway

import (
	"sort"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// Output is what stage 1 produces.
type Output struct {
	// Proxies is sorted by name and always holds api.DefaultProxyName.
	Proxies []*ir.Proxy
	Reports api.Reports
}

// Translate builds every proxy from res. A resource that cannot be used is
// reported and left out; everything else is still built.
func Translate(res api.Resources) Output {
	t := &translation{
		res:       res,
		reports:   api.Reports{},
		upstreams: map[api.ResourceRef]*api.Upstream{},
		policy:    invalidRoutePolicy(res.Settings),
	}
	for _, u := range res.Upstreams {
		t.reports.Accept(api.KeyOf(u), "")
		t.upstreams[api.ResourceRef{Name: u.Name, Namespace: u.Namespace}] = u
	}
	clusters := t.clusters()
	byProxy := map[string][]*api.Gateway{api.DefaultProxyName: nil}
	for _, g := range res.Gateways {
		t.reports.Accept(api.KeyOf(g), "")
		for _, p := range g.Proxies() {
			byProxy[p] = append(byProxy[p], g)
		}
	}
	for _, vs := range res.VirtualServices {
		t.reports.Accept(api.KeyOf(vs), "")
	}
	if res.Settings != nil {
		t.reports.Accept(api.KeyOf(res.Settings), "")
	}
	t.vhosts = t.virtualHosts()
	out := Output{Reports: t.reports}
	for _, name := range sortedNames(byProxy) {
		out.Proxies = append(out.Proxies, &ir.Proxy{
			Name:      name,
			Listeners: t.listeners(byProxy[name]),
			Clusters:  clusters,
		})
	}
	return out
}

type translation struct {
	res       api.Resources
	reports   api.Reports
	upstreams map[api.ResourceRef]*api.Upstream
	policy    ir.DirectResponse
	// vhosts holds each virtual service's translated virtual host, built
	// once and shared by every listener that serves it.
	vhosts map[api.ResourceRef]*ir.VirtualHost
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func invalidRoutePolicy(s *api.Settings) ir.DirectResponse {
	d := ir.DirectResponse{Status: 500}
	if s != nil && s.Spec.InvalidConfigPolicy != nil {
		p := s.Spec.InvalidConfigPolicy
		if p.InvalidRouteResponseCode != 0 {
			d.Status = p.InvalidRouteResponseCode
		}
		d.Body = p.InvalidRouteResponseBody
	}
	return d
}
