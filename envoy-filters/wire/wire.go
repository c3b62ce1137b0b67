// Package wire lists Gluon's golang filter plugins with their wire
// contracts (each defined in its own leaf package): the one list the
// embedded data plane and the Envoy plugin library both run, so a new
// filter is added here once.
package wire

import (
	"github.com/gluon-gateway/gluon/envoy-filters/wire/azurewire"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/basicauthwire"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/clientheaderswire"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/lambdawire"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/mcpwire"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/transformationwire"
)

// Plugin is one golang filter plugin: its name (plugin_name, and the HTTP
// filter's name) and the TypedStruct type URLs of its listener-level and
// per-route configs.
type Plugin struct {
	Name         string
	ListenerType string
	RouteType    string
}

// Plugins are Gluon's golang filter plugins.
func Plugins() []Plugin {
	return []Plugin{
		{Name: transformationwire.PluginName, ListenerType: transformationwire.ListenerType, RouteType: transformationwire.RouteType},
		{Name: lambdawire.PluginName, ListenerType: lambdawire.ListenerType, RouteType: lambdawire.RouteType},
		{Name: azurewire.PluginName, ListenerType: azurewire.ListenerType, RouteType: azurewire.RouteType},
		{Name: clientheaderswire.PluginName, ListenerType: clientheaderswire.ListenerType, RouteType: clientheaderswire.RouteType},
		{Name: basicauthwire.PluginName, ListenerType: basicauthwire.ListenerType, RouteType: basicauthwire.RouteType},
		{Name: mcpwire.PluginName, ListenerType: mcpwire.ListenerType, RouteType: mcpwire.RouteType},
	}
}
