package translator

import (
	"encoding/json"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/mcpwire"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// mcpFeature is Gluon's MCP filter, after authentication, authorization
// and rate limits (an MCP request passes them as any other does), before
// the upstream call is signed: it answers MCP routes itself, and sends
// each tool call back through the listener to the tool's own route.
var mcpFeature = feature{
	name: "mcp",
	filters: func(_ *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		if !anyRoute(l, func(r *ir.Route) bool { return r.MCP != nil }) {
			return nil, nil
		}
		f, err := goPluginFilter(StageAccepted, mcpwire.PluginName, mcpwire.ListenerType, struct{}{})
		if err != nil {
			return nil, err
		}
		return []httpFilter{f}, nil
	},
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) error {
		if r.MCP == nil {
			return nil
		}
		return setGoPluginRouteConfig(out, mcpwire.PluginName, mcpwire.RouteType, mcpRouteConfig(r))
	},
}

func mcpRouteConfig(r *ir.Route) mcpwire.RouteConfig {
	cfg := mcpwire.RouteConfig{Endpoint: r.Name, MaxSessions: r.MCP.MaxSessions, MaxMessageBytes: r.MCP.MaxMessageBytes}
	for _, t := range r.MCP.Tools {
		tool := mcpwire.Tool{Name: t.Name, Description: t.Description, InputSchema: json.RawMessage(t.InputSchema),
			ReadOnly: t.ReadOnly, Destructive: t.Destructive, Path: t.Path, ArgumentsAsBody: t.ArgumentsAsBody}
		for _, a := range t.Args {
			tool.Args = append(tool.Args, mcpwire.Arg(a))
		}
		cfg.Tools = append(cfg.Tools, tool)
	}
	return cfg
}
