package adapter

import (
	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"

	"github.com/gluon-gateway/gluon/envoy-filters/basicauth"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/basicauthwire"
)

// BasicAuthParser parses the plugin's route configs; its listener config
// is empty.
var BasicAuthParser = routeOnlyParser[*basicauth.Route]{plugin: basicauth.PluginName, listenerType: basicauthwire.ListenerType,
	routeType: basicauthwire.RouteType, compile: basicauth.CompileRoute}

// BasicAuthFactory implements api.StreamFilterFactory.
func BasicAuthFactory(config interface{}, callbacks api.FilterCallbackHandler) api.StreamFilter {
	route, _ := config.(*basicauth.Route)
	return &basicAuthFilter{route: route, callbacks: callbacks}
}

// basicAuthFilter checks request headers only.
type basicAuthFilter struct {
	api.PassThroughStreamFilter
	route     *basicauth.Route
	callbacks api.FilterCallbackHandler
}

func (f *basicAuthFilter) DecodeHeaders(h api.RequestHeaderMap, _ bool) api.StatusType {
	if f.route == nil {
		return api.Continue
	}
	if r := f.route.OnRequest(h); r != nil {
		headers := map[string][]string{"content-type": {"text/plain"}}
		for k, v := range r.Headers {
			headers[k] = []string{v}
		}
		f.callbacks.DecoderFilterCallbacks().SendLocalReply(r.Status, r.Body, headers, -1, "gluon_basic_auth_denied")
		return api.LocalReply
	}
	return api.Continue
}
