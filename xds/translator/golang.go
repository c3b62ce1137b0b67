package translator

import (
	"encoding/json"
	"fmt"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	golangv3alpha "github.com/envoyproxy/go-control-plane/contrib/envoy/extensions/filters/http/golang/v3alpha"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Gluon's own HTTP filters run in Envoy as golang filter plugins, all from
// one shared library built from envoy-filters/.
const (
	goLibraryID   = "gluon"
	goLibraryPath = "/etc/envoy/gluon-filters.so"
)

// goPluginFilter is the listener-level filter of a Gluon plugin; the HTTP
// filter is named after the plugin so that routes can address it in
// typed_per_filter_config.
func goPluginFilter(stage Stage, plugin, configType string, config any) (httpFilter, error) {
	cfg, err := typedStruct(configType, config)
	if err != nil {
		return httpFilter{}, fmt.Errorf("%s: %w", plugin, err)
	}
	return httpFilter{stage: stage, name: plugin, config: &golangv3alpha.Config{
		LibraryId:    goLibraryID,
		LibraryPath:  goLibraryPath,
		PluginName:   plugin,
		PluginConfig: cfg,
	}}, nil
}

// setGoPluginRouteConfig attaches a plugin's per-route config to a route.
func setGoPluginRouteConfig(out *routev3.Route, plugin, configType string, config any) error {
	cfg, err := typedStruct(configType, config)
	if err != nil {
		return fmt.Errorf("%s: %w", plugin, err)
	}
	perRoute, err := packAny(&golangv3alpha.ConfigsPerRoute{PluginsConfig: map[string]*golangv3alpha.RouterPlugin{
		plugin: {Override: &golangv3alpha.RouterPlugin_Config{Config: cfg}},
	}})
	if err != nil {
		return fmt.Errorf("%s: %w", plugin, err)
	}
	out.TypedPerFilterConfig = withFilterConfig(out.TypedPerFilterConfig, plugin, perRoute)
	return nil
}

// typedStruct carries a plugin's JSON config as Envoy's golang filter
// expects it: a TypedStruct whose value the plugin parses.
func typedStruct(typeURL string, v any) (*anypb.Any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	s, err := structpb.NewStruct(m)
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	return packAny(&xdstypev3.TypedStruct{TypeUrl: typeURL, Value: s})
}
