package dataplane

import (
	"net/http"

	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
)

const routerType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"

// middleware is what a non-terminal HTTP filter contributes to a listener's
// chain: it wraps the rest of the chain.
type middleware func(next http.Handler) http.Handler

// httpFilterDef is an HTTP filter the data plane implements natively.
type httpFilterDef struct {
	name    string // Envoy's canonical name
	typeURL string // typed_config type; filters are found by it, as in Envoy
	// terminal filters end the chain (the router); Envoy requires exactly one, last.
	terminal bool
	// compile validates typed_config (nil when absent) and returns the
	// middleware of a non-terminal filter; terminal filters return nil.
	compile func(cfg *anypb.Any) (middleware, error)
}

// knownHTTPFilters lists every HTTP filter this data plane implements. Gluon's
// own filters (golang plugins, local_ratelimit, ratelimit) are added here; a
// listener naming any other filter is NACKed.
func knownHTTPFilters() []httpFilterDef {
	return []httpFilterDef{
		{name: wellknown.Router, typeURL: routerType, terminal: true, compile: compileRouterFilter},
	}
}

// compileRouterFilter accepts the Router config only when it asks for nothing
// beyond routing: this data plane adds no x-envoy-* headers anyway.
func compileRouterFilter(cfg *anypb.Any) (middleware, error) {
	if cfg == nil {
		return nil, nil
	}
	r := &routerv3.Router{}
	if err := decodeAny(cfg, r); err != nil {
		return nil, err
	}
	return nil, onlyFields(r, "suppress_envoy_headers")
}
