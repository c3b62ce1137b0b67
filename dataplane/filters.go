package dataplane

import (
	"fmt"
	"log/slog"
	"net/http"

	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"github.com/gluon-gateway/gluon/envoy-filters/mcp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

const routerType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"

// handler is one stage of a listener's HTTP filter chain. Every stage sees
// the route matched when the request started (see hcm).
type handler func(w http.ResponseWriter, r *http.Request, m *routeMatch)

// middleware is what a non-terminal HTTP filter contributes to a listener's
// chain under one route table: it wraps the rest of the chain. clusters are
// those of the served config, for filters that call a service through one.
type middleware func(next handler, clusters map[string]*upstreamCluster) handler

// httpFilter is a non-terminal HTTP filter as configured on one listener.
type httpFilter interface {
	// withRoutes compiles the filter's per-route configs of rt and returns
	// the filter as it runs under that table. It is called when either the
	// listener or the table changes; an error rejects that update.
	withRoutes(rt *routeTable) (middleware, error)
}

// httpFilterDef is an HTTP filter the data plane implements natively.
type httpFilterDef struct {
	name    string // Envoy's canonical name
	typeURL string // typed_config type; filters are found by it, as in Envoy
	// terminal filters end the chain (the router); Envoy requires exactly one, last.
	terminal bool
	// disableable filters may be off by default (HttpFilter.disabled), on
	// only for routes that configure them; they implement disableByDefault.
	disableable bool
	// compile validates the filter named name with typed_config cfg (nil
	// when absent) and returns it; terminal filters return nil.
	compile func(name string, cfg *anypb.Any) (httpFilter, error)
	// perRouteType is the typed_per_filter_config type the filter reads, if
	// any; as in Envoy, a per-route config is validated by its type when the
	// route configuration arrives, whichever listener uses it.
	perRouteType string
	// compilePerRoute validates such a config; the filter finds the result
	// in filterRouteConfig.native.
	compilePerRoute func(cfg *anypb.Any) (any, error)
}

// extensions are what the data plane implements natively: the HTTP filters
// and the Gluon plugins that the golang filter dispatches to. A listener
// naming any other filter, or a route configuring any other, is NACKed.
type extensions struct {
	httpFilters []httpFilterDef
	goPlugins   []goPlugin
	// logFiles are the access log files open, shared by every listener.
	logFiles *logFiles
	// mcpSessions are told of tool list changes once a config serves.
	mcpSessions *mcp.Sessions
}

func knownExtensions(log *slog.Logger) *extensions {
	sessions := mcp.NewSessions()
	plugins := knownGoPlugins(sessions)
	return &extensions{
		mcpSessions: sessions,
		logFiles:    &logFiles{},
		goPlugins:   plugins,
		httpFilters: []httpFilterDef{
			{name: wellknown.Router, typeURL: routerType, terminal: true, compile: compileRouterFilter},
			faultFilterDef(),
			corsFilterDef(),
			jwtAuthnFilterDef(),
			apiKeyAuthFilterDef(),
			basicAuthFilterDef(),
			extAuthzFilterDef(),
			compressorFilterDef(),
			bufferFilterDef(),
			localRateLimitFilterDef(newBucketStore()),
			rateLimitFilterDef(log),
			grpcTranscoderFilterDef(),
			golangFilterDef(plugins),
		},
	}
}

// perRouteDef returns the native filter reading per-route configs of typeURL.
func (ext *extensions) perRouteDef(typeURL string) (*httpFilterDef, bool) {
	for i := range ext.httpFilters {
		if d := &ext.httpFilters[i]; d.perRouteType != "" && d.perRouteType == typeURL {
			return d, true
		}
	}
	return nil, false
}

// compileRouterFilter accepts the Router config only when it asks for nothing
// beyond routing: this data plane adds no x-envoy-* headers anyway.
func compileRouterFilter(_ string, cfg *anypb.Any) (httpFilter, error) {
	if cfg == nil {
		return nil, nil
	}
	r := &routerv3.Router{}
	if err := decodeAny(cfg, r); err != nil {
		return nil, err
	}
	return nil, onlyFields(r, "suppress_envoy_headers")
}

// boundFilters is a listener's HTTP filters compiled against the route
// table it serves.
type boundFilters struct {
	routes      *routeTable
	middlewares []middleware
}

func (lc *listenerConfig) bind(rt *routeTable) (*boundFilters, error) {
	b := &boundFilters{routes: rt}
	for _, f := range lc.filters {
		mw, err := f.withRoutes(rt)
		if err != nil {
			return nil, err
		}
		b.middlewares = append(b.middlewares, mw)
	}
	return b, nil
}

// emptyListenerConfig accepts a filter's listener-level config only when
// it sets nothing (decoded into m): the filter's settings are per route.
func emptyListenerConfig(cfg *anypb.Any, m proto.Message, hint string) error {
	if cfg == nil {
		return nil
	}
	if err := decodeAny(cfg, m); err != nil {
		return err
	}
	if err := onlyFields(m); err != nil {
		return fmt.Errorf("%w (%s)", err, hint)
	}
	return nil
}

// nativeRouteConfigs are, by route index, the compiled per-route configs of
// filter name that apply to each route of rt (the most specific, as in
// Envoy); nil where none does. typeName names T's message in errors.
func nativeRouteConfigs[T any](rt *routeTable, name, typeName string) ([]T, error) {
	out := make([]T, rt.nroutes)
	for _, vh := range rt.vhosts {
		for i, cr := range vh.routes {
			c := cr.plugins[name]
			if c == nil {
				continue
			}
			v, ok := c.native.(T)
			if !ok {
				return nil, fmt.Errorf("virtual host %q: route %d (%q): typed_per_filter_config %q is not a %s", vh.name, i, cr.name, name, typeName)
			}
			out[cr.idx] = v
		}
	}
	return out, nil
}
