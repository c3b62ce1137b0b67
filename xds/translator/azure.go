package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// The Azure filter is the Gluon plugin of that name (envoy-filters/azure).
const (
	azurePlugin       = "gluon.azure_functions"
	azureListenerType = "gluon.dev/azure_functions.ListenerConfig"
	azureRouteType    = "gluon.dev/azure_functions.RouteConfig"
)

// azureListenerConfig matches the plugin's listener config: keys and
// Entra ID credentials of the upstreams the listener's routes call.
type azureListenerConfig struct {
	Keys map[string]ir.AzureAppKeys `json:"keys,omitempty"`
	AAD  map[string]ir.AzureAAD     `json:"aad,omitempty"`
}

// azureFilter adds the plugin at the out-auth stage to listeners with an
// Azure route; only the secrets those routes use go in its config.
func azureFilter(p *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
	cfg := azureListenerConfig{Keys: map[string]ir.AzureAppKeys{}, AAD: map[string]ir.AzureAAD{}}
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
	f, err := goPluginFilter(StageOutAuth, azurePlugin, azureListenerType, cfg)
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
	return setGoPluginRouteConfig(out, azurePlugin, azureRouteType, r.Azure)
}
