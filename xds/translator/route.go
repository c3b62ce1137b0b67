package translator

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// routeConfiguration builds the RDS resource of a listener.
func routeConfiguration(l *ir.Listener) (*routev3.RouteConfiguration, error) {
	rc := &routev3.RouteConfiguration{Name: l.Name}
	mem := &routeMessages{}
	for _, vh := range l.VirtualHosts {
		v := &routev3.VirtualHost{Name: vh.Name, Domains: vh.Domains, Routes: make([]*routev3.Route, 0, len(vh.Routes))}
		applyVirtualHostHeaders(v, vh.Headers)
		if err := applyVirtualHostRateLimit(v, vh.RateLimit); err != nil {
			return nil, fmt.Errorf("virtual host %q: %w", vh.Name, err)
		}
		for _, r := range vh.Routes {
			route, err := buildRoute(r, vh.RateLimit, mem)
			if err != nil {
				return nil, fmt.Errorf("virtual host %q: %w", vh.Name, err)
			}
			v.Routes = append(v.Routes, route)
		}
		rc.VirtualHosts = append(rc.VirtualHosts, v)
	}
	return rc, nil
}

func buildRoute(r *ir.Route, vhostLimit *ir.RateLimit, mem *routeMessages) (*routev3.Route, error) {
	out := mem.routes.next()
	out.Name, out.Match = r.Name, routeMatch(&r.Match, mem)
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
	applyRouteHeaders(out, r.Headers)
	if err := applyTransformation(out, r); err != nil {
		return nil, fmt.Errorf("route %q: %w", r.Name, err)
	}
	if err := applyLambda(out, r); err != nil {
		return nil, fmt.Errorf("route %q: %w", r.Name, err)
	}
	if err := applyAzure(out, r); err != nil {
		return nil, fmt.Errorf("route %q: %w", r.Name, err)
	}
	if err := applyRouteRateLimit(out, r.RateLimit, vhostLimit); err != nil {
		return nil, fmt.Errorf("route %q: %w", r.Name, err)
	}
	return out, nil
}
