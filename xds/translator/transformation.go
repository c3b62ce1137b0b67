package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/transformationwire"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// transformationFeature runs Gluon's transformation plugin on the routes
// with a transformation.
var transformationFeature = feature{
	name:    "transformation",
	filters: transformationFilter,
	route:   func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) error { return applyTransformation(out, r) },
}

// transformationFilter adds the plugin to listeners with a transformed route,
// at the accepted stage: after rate limiting decided the request goes on,
// before out-auth signs what the transformation produced.
func transformationFilter(p *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
	if !hasTransformation(l) {
		return nil, nil
	}
	f, err := goPluginFilter(StageAccepted, transformationwire.PluginName, transformationwire.ListenerType, transformationwire.ListenerConfig{AllowedEnv: p.AllowedEnv})
	if err != nil {
		return nil, err
	}
	return []httpFilter{f}, nil
}

func hasTransformation(l *ir.Listener) bool {
	for _, vh := range l.VirtualHosts {
		for _, r := range vh.Routes {
			if r.Transformation != nil {
				return true
			}
		}
	}
	return false
}

// applyTransformation sets a route's per-filter config for the plugin.
func applyTransformation(out *routev3.Route, r *ir.Route) error {
	if r.Transformation == nil {
		return nil
	}
	return setGoPluginRouteConfig(out, transformationwire.PluginName, transformationwire.RouteType, r.Transformation)
}
