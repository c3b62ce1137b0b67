package adapter

import (
	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"
	"google.golang.org/protobuf/types/known/anypb"
)

// routeOnlyParser parses the configs of a plugin whose listener config is
// empty (routeOnlyListener): a route's config is compiled in Parse, as it
// needs nothing of its listener, and Merge keeps it.
type routeOnlyParser[R any] struct {
	plugin, listenerType, routeType string
	compile                         func([]byte) (R, error)
}

type routeOnlyListener struct{}

// Parse implements api.StreamFilterConfigParser.
func (p routeOnlyParser[R]) Parse(cfg *anypb.Any, _ api.ConfigCallbackHandler) (interface{}, error) {
	typeURL, js, err := typedStructJSON(cfg)
	if err != nil {
		return nil, err
	}
	switch typeURL {
	case p.listenerType:
		return routeOnlyListener{}, nil
	case p.routeType:
		return p.compile(js)
	}
	return nil, unknownType(p.plugin, typeURL)
}

// Merge implements api.StreamFilterConfigParser: a route's config is all;
// without one, the route's filter gets R's zero value.
func (routeOnlyParser[R]) Merge(_, child interface{}) interface{} {
	route, _ := child.(R)
	return route
}
