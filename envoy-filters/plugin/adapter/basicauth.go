package adapter

import (
	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/envoy-filters/basicauth"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/basicauthwire"
)

// BasicAuthParser parses route configs; the listener config is empty.
type BasicAuthParser struct{}

// basicAuthListener is the parsed (empty) listener config.
type basicAuthListener struct{}

// Parse implements api.StreamFilterConfigParser: a route's config is
// compiled here, as it needs nothing of its listener.
func (BasicAuthParser) Parse(cfg *anypb.Any, _ api.ConfigCallbackHandler) (interface{}, error) {
	typeURL, js, err := typedStructJSON(cfg)
	if err != nil {
		return nil, err
	}
	switch typeURL {
	case basicauthwire.ListenerType:
		return basicAuthListener{}, nil
	case basicauthwire.RouteType:
		return basicauth.CompileRoute(js)
	}
	return nil, unknownType(basicauth.PluginName, typeURL)
}

// Merge implements api.StreamFilterConfigParser: a route's config is all.
func (BasicAuthParser) Merge(_, child interface{}) interface{} {
	route, _ := child.(*basicauth.Route)
	return route
}

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
