package dataplane

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	xdstype "github.com/cncf/xds/go/xds/type/v3"
	golangv3alpha "github.com/envoyproxy/go-control-plane/contrib/envoy/extensions/filters/http/golang/v3alpha"
	"github.com/gluon-gateway/gluon/envoy-filters/azure"
	"github.com/gluon-gateway/gluon/envoy-filters/basicauth"
	"github.com/gluon-gateway/gluon/envoy-filters/clientheaders"
	"github.com/gluon-gateway/gluon/envoy-filters/lambda"
	"github.com/gluon-gateway/gluon/envoy-filters/mcp"
	"github.com/gluon-gateway/gluon/envoy-filters/transformation"
	"github.com/gluon-gateway/gluon/envoy-filters/wire"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
)

// In Envoy, Gluon's HTTP filters are plugins of the golang filter, loaded from
// a shared library. The data plane has the same plugin logic built in and
// dispatches on plugin_name instead.
const (
	golangFilterName   = "envoy.filters.http.golang"
	golangType         = "type.googleapis.com/envoy.extensions.filters.http.golang.v3alpha.Config"
	golangPerRouteType = "type.googleapis.com/envoy.extensions.filters.http.golang.v3alpha.ConfigsPerRoute"
	typedStructType    = "type.googleapis.com/xds.type.v3.TypedStruct"
)

// goPlugin is a Gluon golang filter plugin the data plane runs natively.
type goPlugin struct {
	name         string // plugin_name; Gluon names the HTTP filter after it too
	listenerType string // type_url of the TypedStruct in plugin_config
	routeType    string // type_url of the TypedStruct in a per-route config
	// newFilter parses the listener-level config (JSON; nil when absent).
	newFilter func(configJSON []byte) (httpFilter, error)
}

// goPluginFilters are the data plane's own runs of Gluon's plugins, by
// name: one for every plugin of wire.Plugins (a test holds them equal).
// MCP sessions live as long as the data plane, across configs.
func goPluginFilters(sessions *mcp.Sessions) map[string]func(configJSON []byte) (httpFilter, error) {
	return map[string]func(configJSON []byte) (httpFilter, error){
		transformation.PluginName: newTransformationFilter,
		lambda.PluginName:         newLambdaFilter,
		azure.PluginName:          newAzureFilter,
		clientheaders.PluginName:  newClientHeadersFilter,
		basicauth.PluginName:      newBasicAuthPlugin,
		mcp.PluginName:            newMCPFilter(sessions),
	}
}

// knownGoPlugins lists the plugins the data plane runs: Gluon's, as
// wire.Plugins lists them.
func knownGoPlugins(sessions *mcp.Sessions) []goPlugin {
	filters := goPluginFilters(sessions)
	var out []goPlugin
	for _, p := range wire.Plugins() {
		out = append(out, goPlugin{name: p.Name, listenerType: p.ListenerType, routeType: p.RouteType, newFilter: filters[p.Name]})
	}
	return out
}

func findGoPlugin(plugins []goPlugin, name string) (*goPlugin, error) {
	for i := range plugins {
		if plugins[i].name == name {
			return &plugins[i], nil
		}
	}
	return nil, fmt.Errorf("golang plugin %q is not run by the Gluon data plane (known plugins: %s)", name, strings.Join(pluginNames(plugins), ", "))
}

func pluginNames(plugins []goPlugin) []string {
	names := make([]string, len(plugins))
	for i := range plugins {
		names[i] = plugins[i].name
	}
	return names
}

func golangFilterDef(plugins []goPlugin) httpFilterDef {
	return httpFilterDef{name: golangFilterName, typeURL: golangType, compile: func(name string, cfg *anypb.Any) (httpFilter, error) {
		return compileGolangFilter(plugins, name, cfg)
	}}
}

func compileGolangFilter(plugins []goPlugin, name string, cfg *anypb.Any) (httpFilter, error) {
	if cfg == nil {
		return nil, errors.New("typed_config is required")
	}
	c := &golangv3alpha.Config{}
	if err := decodeAny(cfg, c); err != nil {
		return nil, err
	}
	// library_id and library_path locate the shared library Envoy loads;
	// the data plane has the plugins built in and ignores them.
	if err := onlyFields(c, "library_id", "library_path", "plugin_name", "plugin_config"); err != nil {
		return nil, err
	}
	p, err := findGoPlugin(plugins, c.GetPluginName())
	if err != nil {
		return nil, err
	}
	// Per-route configs are keyed by filter name and then by plugin name;
	// Gluon uses one name for both, and so the data plane requires it.
	if name != p.name {
		return nil, fmt.Errorf("golang plugin %q must be the filter's name, not %q", p.name, name)
	}
	js, err := typedStructJSON(c.GetPluginConfig(), p.listenerType)
	if err != nil {
		return nil, fmt.Errorf("plugin_config: %w", err)
	}
	return p.newFilter(js)
}

// typedStructJSON unpacks a plugin config: an xds.type.v3.TypedStruct of the
// given type_url, whose value rendered as JSON is what the plugin parses.
// A nil Any gives nil.
func typedStructJSON(a *anypb.Any, typeURL string) ([]byte, error) {
	if a == nil {
		return nil, nil
	}
	if a.GetTypeUrl() != typedStructType {
		return nil, fmt.Errorf("type %s is not supported, want %s", a.GetTypeUrl(), typedStructType)
	}
	ts := &xdstype.TypedStruct{}
	if err := decodeAny(a, ts); err != nil {
		return nil, err
	}
	if ts.GetTypeUrl() != typeURL {
		return nil, fmt.Errorf("TypedStruct type_url %q, want %q", ts.GetTypeUrl(), typeURL)
	}
	js, err := protojson.Marshal(ts.GetValue())
	if err != nil {
		return nil, fmt.Errorf("TypedStruct value: %w", err)
	}
	return js, nil
}

// filterRouteConfig is an HTTP filter's per-route config at one level: a
// route, a virtual host or a whole route configuration.
type filterRouteConfig struct {
	disabled bool
	spec     []byte // a Gluon plugin's TypedStruct value as JSON
	native   any    // a native filter's compiled config (see httpFilterDef.compilePerRoute)
}

// compilePerFilterConfig decodes a typed_per_filter_config. As in Envoy, an
// entry is resolved by its type: a golang ConfigsPerRoute must be keyed by a
// Gluon plugin, any other type must be one a native filter reads. Anything
// else is rejected rather than ignored. Plugin specs are compiled when bound
// to a listener's filters (see compileRoutes).
func compilePerFilterConfig(m map[string]*anypb.Any, ext *extensions) (map[string]*filterRouteConfig, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]*filterRouteConfig, len(m))
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c, err := compileFilterRouteConfig(name, m[name], ext)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out[name] = c
		}
	}
	return out, nil
}

func compileFilterRouteConfig(name string, a *anypb.Any, ext *extensions) (*filterRouteConfig, error) {
	if def, ok := ext.perRouteDef(a.GetTypeUrl()); ok {
		native, err := def.compilePerRoute(a)
		if err != nil {
			return nil, fmt.Errorf("typed_per_filter_config %q: %w", name, err)
		}
		return &filterRouteConfig{native: native}, nil
	}
	p, err := findGoPlugin(ext.goPlugins, name)
	if err != nil {
		return nil, fmt.Errorf("typed_per_filter_config %q is not supported (%s): only Gluon plugins (%s) and %s take per-route config here",
			name, a.GetTypeUrl(), strings.Join(pluginNames(ext.goPlugins), ", "), localRateLimitName)
	}
	c, err := compilePluginRouteConfig(p, a)
	if err != nil {
		return nil, fmt.Errorf("typed_per_filter_config %q: %w", name, err)
	}
	return c, nil
}

// compilePluginRouteConfig returns nil when the ConfigsPerRoute holds nothing
// for the plugin: a less specific level then applies.
func compilePluginRouteConfig(p *goPlugin, a *anypb.Any) (*filterRouteConfig, error) {
	if a.GetTypeUrl() != golangPerRouteType {
		return nil, fmt.Errorf("type %s is not supported, want %s", a.GetTypeUrl(), golangPerRouteType)
	}
	cpr := &golangv3alpha.ConfigsPerRoute{}
	if err := decodeAny(a, cpr); err != nil {
		return nil, err
	}
	var c *filterRouteConfig
	for plugin, rp := range cpr.GetPluginsConfig() {
		if plugin != p.name {
			return nil, fmt.Errorf("plugins_config %q: the filter runs plugin %q only", plugin, p.name)
		}
		switch {
		case rp.GetDisabled():
			c = &filterRouteConfig{disabled: true}
		case rp.GetConfig() != nil:
			js, err := typedStructJSON(rp.GetConfig(), p.routeType)
			if err != nil {
				return nil, fmt.Errorf("plugins_config %q: %w", plugin, err)
			}
			c = &filterRouteConfig{spec: js}
		default:
			return nil, fmt.Errorf("plugins_config %q: neither config nor disabled is set", plugin)
		}
	}
	return c, nil
}

// mergeFilterConfigs resolves per-route configs the Envoy way: the most
// specific level wins (route over virtual host over route configuration).
// levels are given least specific first.
func mergeFilterConfigs(levels ...map[string]*filterRouteConfig) map[string]*filterRouteConfig {
	var out map[string]*filterRouteConfig
	for _, l := range levels {
		for name, c := range l {
			if out == nil {
				out = map[string]*filterRouteConfig{}
			}
			out[name] = c
		}
	}
	return out
}

// compileRoutes compiles a plugin's config at every level of rt and returns
// the compiled config in effect on each route, indexed by compiledRoute.idx
// (the zero R where the plugin has none or is disabled). A config shared by
// several routes (a virtual host's) is compiled once.
func compileRoutes[R any](rt *routeTable, plugin string, compile func(spec []byte) (R, error)) ([]R, error) {
	done := map[*filterRouteConfig]R{}
	compileOnce := func(c *filterRouteConfig) error {
		if c == nil || c.disabled {
			return nil
		}
		if _, ok := done[c]; ok {
			return nil
		}
		if c.native != nil {
			return fmt.Errorf("typed_per_filter_config %q is not a golang ConfigsPerRoute", plugin)
		}
		r, err := compile(c.spec)
		if err != nil {
			return err
		}
		done[c] = r
		return nil
	}
	if err := compileOnce(rt.plugins[plugin]); err != nil {
		return nil, err
	}
	out := make([]R, rt.nroutes)
	for _, vh := range rt.vhosts {
		if err := compileOnce(vh.plugins[plugin]); err != nil {
			return nil, fmt.Errorf("virtual host %q: %w", vh.name, err)
		}
		for i, cr := range vh.routes {
			if err := compileOnce(cr.plugins[plugin]); err != nil {
				return nil, fmt.Errorf("virtual host %q: route %d (%q): %w", vh.name, i, cr.name, err)
			}
			out[cr.idx] = done[cr.plugins[plugin]]
		}
	}
	return out, nil
}
