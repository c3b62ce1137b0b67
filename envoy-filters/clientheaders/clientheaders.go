// Package clientheaders is the logic of Gluon's client headers filter
// (golang plugin "gluon.client_headers"): after an authentication filter
// has admitted a client and named it in a header, it sets the headers that
// client's credential carries (an API key's metadata), which Envoy's own
// authentication filters cannot. Like the other Gluon filters it works on
// plain header maps, so Envoy (through the plugin adapter) and the
// embedded data plane run the same code.
package clientheaders

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/clientheaderswire"
	"github.com/gluon-gateway/gluon/transform"
)

// PluginName is the wire contract's, defined in clientheaderswire.
const PluginName = clientheaderswire.PluginName

// RouteConfig is the wire contract's.
type RouteConfig = clientheaderswire.RouteConfig

// Headers is the header map the filter works on: Envoy's api.HeaderMap and
// the embedded data plane's adapter are.
type Headers = transform.Headers

// Route is a route's compiled config.
type Route struct {
	cfg RouteConfig
	// names are every header some client gets, lowercase (as Envoy's
	// header maps hold them), sorted.
	names []string
}

// CompileRoute parses a route's config (JSON).
func CompileRoute(js []byte) (*Route, error) {
	var cfg RouteConfig
	if err := json.Unmarshal(js, &cfg); err != nil {
		return nil, fmt.Errorf("%s route config: %w", PluginName, err)
	}
	if cfg.ClientHeader == "" {
		return nil, errors.New(PluginName + " route config: clientHeader is required")
	}
	seen := map[string]bool{}
	for _, headers := range cfg.Headers {
		for name := range headers {
			seen[strings.ToLower(name)] = true
		}
	}
	return &Route{cfg: cfg, names: slices.Sorted(maps.Keys(seen))}, nil
}

// OnRequest sets the admitted client's headers, after removing every
// header of the route's clients that the caller sent. A request without a
// client id (its route lets unauthenticated callers through) gets none.
func (r *Route) OnRequest(h Headers) {
	client, _ := h.Get(r.cfg.ClientHeader)
	if r.cfg.RemoveClientHeader {
		h.Del(r.cfg.ClientHeader)
	}
	for _, name := range r.names {
		h.Del(name)
	}
	for _, name := range slices.Sorted(maps.Keys(r.cfg.Headers[client])) {
		h.Set(name, r.cfg.Headers[client][name])
	}
}
