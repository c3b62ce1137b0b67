package translator

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// routeConfiguration builds the RDS resource of a listener. A virtual host
// or route that cannot be built, or that Envoy would reject, is left out
// (and recorded in r.Problems); only the configuration's own fields failing
// fails it. Each route is validated alone, the hosts and the configuration
// without their children, so that each message is checked once.
func (r *Resources) routeConfiguration(name string, vhosts []*ir.VirtualHost, clusters map[string]bool) (*routev3.RouteConfiguration, error) {
	rc := &routev3.RouteConfiguration{Name: name}
	mem := &routeMessages{}
	for _, vh := range vhosts {
		v, err := r.virtualHost(vh, clusters, mem)
		if err != nil {
			r.leaveOut(vh.Origin, fmt.Errorf("virtual host %q: %w", vh.Name, err))
			continue
		}
		rc.VirtualHosts = append(rc.VirtualHosts, v)
	}
	if err := validateAlone(rc, &rc.VirtualHosts); err != nil {
		return nil, fmt.Errorf("route configuration %q: %w", rc.Name, err)
	}
	return rc, nil
}

func (r *Resources) virtualHost(vh *ir.VirtualHost, clusters map[string]bool, mem *routeMessages) (*routev3.VirtualHost, error) {
	v := &routev3.VirtualHost{Name: vh.Name, Domains: vh.Domains, Routes: make([]*routev3.Route, 0, len(vh.Routes))}
	for _, f := range features {
		if f.virtualHost == nil {
			continue
		}
		if err := f.virtualHost(v, vh); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for _, route := range vh.Routes {
		out, err := buildValidRoute(route, vh, clusters, mem)
		if err != nil {
			r.leaveOut(route.Origin, err)
			continue
		}
		v.Routes = append(v.Routes, out)
	}
	return v, validateAlone(v, &v.Routes)
}

func buildValidRoute(r *ir.Route, vh *ir.VirtualHost, clusters map[string]bool, mem *routeMessages) (*routev3.Route, error) {
	if err := r.Validate(clusters); err != nil {
		return nil, err
	}
	out, err := buildRoute(r, vh, mem)
	if err != nil {
		return nil, err
	}
	if err := out.ValidateAll(); err != nil {
		return nil, fmt.Errorf("route %q: %w", r.Name, err)
	}
	return out, nil
}

func buildRoute(r *ir.Route, vh *ir.VirtualHost, mem *routeMessages) (*routev3.Route, error) {
	out := mem.routes.next()
	// Envoy counts a route's requests (vhost.<vh>.route.<prefix>.*) only
	// when it has a stat prefix; the console shows rates per route.
	out.Name, out.StatPrefix, out.Match = r.Name, r.Name, routeMatch(&r.Match, mem)
	switch {
	case r.Forward != nil:
		action := mem.forwards.next()
		action.Route = routeAction(r.Forward, mem)
		out.Action = action
	case r.Redirect != nil:
		out.Action = &routev3.Route_Redirect{Redirect: redirectAction(r.Redirect)}
	case r.DirectResponse != nil:
		out.Action = &routev3.Route_DirectResponse{DirectResponse: directResponse(r.DirectResponse)}
	default:
		return nil, fmt.Errorf("route %q: no action", r.Name)
	}
	for _, f := range features {
		if f.route == nil {
			continue
		}
		if err := f.route(out, r, vh); err != nil {
			return nil, fmt.Errorf("route %q: %s: %w", r.Name, f.name, err)
		}
	}
	return out, nil
}
