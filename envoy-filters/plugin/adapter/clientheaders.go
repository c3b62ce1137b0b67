package adapter

import (
	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"

	"github.com/gluon-gateway/gluon/envoy-filters/clientheaders"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/clientheaderswire"
)

// ClientHeadersParser parses the plugin's route configs; its listener config
// is empty.
var ClientHeadersParser = routeOnlyParser[*clientheaders.Route]{plugin: clientheaders.PluginName, listenerType: clientheaderswire.ListenerType,
	routeType: clientheaderswire.RouteType, compile: clientheaders.CompileRoute}

// ClientHeadersFactory implements api.StreamFilterFactory.
func ClientHeadersFactory(config interface{}, _ api.FilterCallbackHandler) api.StreamFilter {
	route, _ := config.(*clientheaders.Route)
	return &clientHeadersFilter{route: route}
}

// clientHeadersFilter sets request headers only.
type clientHeadersFilter struct {
	api.PassThroughStreamFilter
	route *clientheaders.Route
}

func (f *clientHeadersFilter) DecodeHeaders(h api.RequestHeaderMap, _ bool) api.StatusType {
	if f.route != nil {
		f.route.OnRequest(h)
	}
	return api.Continue
}
