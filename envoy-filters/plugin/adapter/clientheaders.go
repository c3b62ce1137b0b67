package adapter

import (
	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/envoy-filters/clientheaders"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/clientheaderswire"
)

// ClientHeadersParser parses route configs; the listener config is empty.
type ClientHeadersParser struct{}

// clientHeadersListener is the parsed (empty) listener config.
type clientHeadersListener struct{}

// Parse implements api.StreamFilterConfigParser: a route's config is
// compiled here, as it needs nothing of its listener.
func (ClientHeadersParser) Parse(cfg *anypb.Any, _ api.ConfigCallbackHandler) (interface{}, error) {
	typeURL, js, err := typedStructJSON(cfg)
	if err != nil {
		return nil, err
	}
	switch typeURL {
	case clientheaderswire.ListenerType:
		return clientHeadersListener{}, nil
	case clientheaderswire.RouteType:
		return clientheaders.CompileRoute(js)
	}
	return nil, unknownType(clientheaders.PluginName, typeURL)
}

// Merge implements api.StreamFilterConfigParser: a route's config is all.
func (ClientHeadersParser) Merge(_, child interface{}) interface{} {
	route, _ := child.(*clientheaders.Route)
	return route
}

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
