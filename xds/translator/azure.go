package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/azurewire"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// azureFeature calls Azure Functions through Gluon's Azure plugin.
var azureFeature = feature{
	name:    "azure",
	filters: azureFilter,
	route:   func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) error { return applyAzure(out, r) },
}

// azureFilter adds the plugin at the out-auth stage to listeners with an
// Azure route; only the secrets those routes use go in its config.
func azureFilter(p *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
	cfg := azurewire.ListenerConfig{Keys: map[string]ir.AzureAppKeys{}, AAD: map[string]ir.AzureAAD{}}
	used := false
	for _, vh := range l.VirtualHosts {
		for _, r := range vh.Routes {
			if r.Azure == nil {
				continue
			}
			used = true
			if k, ok := p.AzureKeys[r.Azure.Upstream]; ok {
				cfg.Keys[r.Azure.Upstream] = k
			}
			if a, ok := p.AzureAAD[r.Azure.Upstream]; ok {
				cfg.AAD[r.Azure.Upstream] = a
			}
		}
	}
	if !used {
		return nil, nil
	}
	f, err := goPluginFilter(StageOutAuth, azurewire.PluginName, azurewire.ListenerType, cfg)
	if err != nil {
		return nil, err
	}
	return []httpFilter{f}, nil
}

// applyAzure sets a route's per-filter config for the plugin.
func applyAzure(out *routev3.Route, r *ir.Route) error {
	if r.Azure == nil {
		return nil
	}
	return setGoPluginRouteConfig(out, azurewire.PluginName, azurewire.RouteType, r.Azure)
}
