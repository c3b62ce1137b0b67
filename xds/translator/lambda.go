package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/lambdawire"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// lambdaFeature invokes Lambda functions through Gluon's Lambda plugin.
var lambdaFeature = feature{
	name:    "lambda",
	filters: lambdaFilter,
	route:   func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) error { return applyLambda(out, r) },
}

// lambdaFilter adds the plugin to listeners with a Lambda route, at the
// out-auth stage: it signs the request last, after anything that may
// still change it. Only the credentials its routes use go in its config.
func lambdaFilter(p *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
	used := map[string]ir.AWSCredentials{}
	hasLambda := false
	for _, vh := range l.VirtualHosts {
		for _, r := range vh.Routes {
			if r.Lambda == nil {
				continue
			}
			hasLambda = true
			if c, ok := p.AWSCredentials[r.Lambda.Credentials]; ok {
				used[r.Lambda.Credentials] = c
			}
		}
	}
	if !hasLambda {
		return nil, nil
	}
	f, err := goPluginFilter(StageOutAuth, lambdawire.PluginName, lambdawire.ListenerType, lambdawire.ListenerConfig{Credentials: used})
	if err != nil {
		return nil, err
	}
	return []httpFilter{f}, nil
}

// applyLambda sets a route's per-filter config for the plugin: the IR's
// LambdaInvoke as is, with the role to assume and its STS endpoint but
// never credentials, which stay in the listener config.
func applyLambda(out *routev3.Route, r *ir.Route) error {
	if r.Lambda == nil {
		return nil
	}
	return setGoPluginRouteConfig(out, lambdawire.PluginName, lambdawire.RouteType, r.Lambda)
}
