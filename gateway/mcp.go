package gateway

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// An MCP route serves the functions it selects as tools. Every tool has a
// route of its own in the same virtual host, ahead of the MCP route, at
// <mcp path>/_tools/<tool>: a tool call is a request to it, so it passes
// the same filters as any request. That route is a copy of the route of
// the virtual service that already serves the function (its options:
// transformations, rate limits, authentication), or, where none does, a
// route to the function with the MCP route's own options.
const (
	mcpToolsSegment = "/_tools/"
	// toolArgHeader prefixes the headers a call carries its path, query
	// and header arguments in; the tool's route reads them back.
	toolArgHeader = "x-gluon-tool-arg-"
	// mcpFallbackBody answers an MCP route where the MCP filter does not run.
	mcpFallbackBody   = "Gluon: this route is an MCP server, and the proxy does not run Gluon's MCP filter\n"
	defaultMCPSession = 1000
	defaultMCPMessage = 1 << 20
)

// exposedFunction is a function an MCP route makes a tool of.
type exposedFunction struct {
	upstream api.ResourceRef
	fn       *functions.Function
}

// mcpServer builds the MCP server of route i and the routes of its tools.
func (t *translation) mcpServer(vs *api.VirtualService, i int, r *api.Route, route *ir.Route) []*ir.Route {
	a := r.RouteAction.MCP
	base, err := mcpBasePath(r)
	if err != nil {
		t.answerInvalid(t.reports.Reject, api.KeyOf(vs), i, route, err, api.InvalidDestination)
		return nil
	}
	exposed := t.mcpFunctions(vs.Namespace, a)
	names := toolNames(exposed)
	server := &ir.MCP{MaxSessions: cmp.Or(a.MaxSessions, defaultMCPSession), MaxMessageBytes: cmp.Or(a.MaxMessageBytes, defaultMCPMessage)}
	var routes []*ir.Route
	for k, e := range exposed {
		tool := mcpTool(names[k], e, a.Tools[names[k]])
		tool.Path = base + mcpToolsSegment + tool.Name
		toolRoute := t.toolRoute(vs, r, e, &tool)
		slot := make([]ir.Route, 1)
		routes = t.appendRoute(routes, vs, i, toolRoute, slot)
		server.Tools = append(server.Tools, tool)
	}
	route.MCP = server
	route.DirectResponse = &ir.DirectResponse{Status: 501, Body: mcpFallbackBody}
	return routes
}

// mcpBasePath is the path an MCP route serves: its matchers' path, which
// must be a prefix or an exact path (the tools' routes sit below it).
func mcpBasePath(r *api.Route) (string, error) {
	if len(r.Matchers) == 0 {
		return "", nil
	}
	m := r.Matchers[0]
	p := cmp.Or(m.Exact, m.Prefix)
	if p == "" {
		return "", api.Errorf(api.InvalidDestination, "matchers[0]", "an MCP route needs a prefix or exact path matcher")
	}
	return strings.TrimSuffix(p, "/"), nil
}

// mcpFunctions are the functions an MCP route selects, sorted by upstream
// and name. gRPC functions are not tools (yet).
func (t *translation) mcpFunctions(ns string, a *api.MCPAction) []exposedFunction {
	var refs []api.ResourceRef
	for _, u := range a.Upstreams {
		refs = append(refs, u.Ref(ns))
	}
	if len(a.UpstreamSelector) > 0 {
		for _, u := range t.res.Upstreams {
			if u.Namespace == ns && hasLabels(u.Labels, a.UpstreamSelector) {
				refs = append(refs, api.ResourceRef{Namespace: u.Namespace, Name: u.Name})
			}
		}
	}
	slices.SortFunc(refs, func(x, y api.ResourceRef) int { return strings.Compare(x.String(), y.String()) })
	refs = slices.Compact(refs)
	var out []exposedFunction
	for _, ref := range refs {
		d, ok := t.functions[functions.UpstreamRef{Namespace: ref.Namespace, Name: ref.Name}]
		if !ok {
			continue
		}
		for k := range d.Functions {
			fn := &d.Functions[k]
			if fn.Kind != functions.KindGRPC && globsSelect(a.Include, a.Exclude, fn.Name) {
				out = append(out, exposedFunction{upstream: ref, fn: fn})
			}
		}
	}
	return out
}

// globsSelect: name matches an include pattern (or there are none) and no
// exclude pattern. Patterns were validated with the resource.
func globsSelect(include, exclude []string, name string) bool {
	matches := func(globs []string) bool {
		return slices.ContainsFunc(globs, func(g string) bool { ok, _ := path.Match(g, name); return ok })
	}
	return (len(include) == 0 || matches(include)) && !matches(exclude)
}

var notToolChar = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// toolNames names each tool <upstream>_<function>, in MCP's alphabet; a
// name two functions would share gets _2, _3… in sorted order, so names
// stay put while the catalog does.
func toolNames(exposed []exposedFunction) []string {
	out := make([]string, len(exposed))
	seen := map[string]int{}
	for k, e := range exposed {
		name := notToolChar.ReplaceAllString(e.upstream.Name+"_"+e.fn.Name, "_")
		if len(name) > 120 {
			name = name[:120]
		}
		seen[name]++
		if n := seen[name]; n > 1 {
			name += "_" + strconv.Itoa(n)
		}
		out[k] = name
	}
	return out
}

// mcpTool describes a function as a tool: its description and input
// schema from discovery (or config), and where each argument goes.
func mcpTool(name string, e exposedFunction, override api.MCPTool) ir.MCPTool {
	tool := ir.MCPTool{Name: name, Description: override.Description}
	fn := e.fn
	switch {
	case fn.REST != nil:
		tool.Description = cmp.Or(tool.Description, restDescription(e))
		tool.InputSchema, tool.Args = restInput(fn.REST)
		tool.ReadOnly = fn.REST.Method == "GET" || fn.REST.Method == "HEAD"
		tool.Destructive = fn.REST.Method == "DELETE"
	case fn.Lambda != nil:
		tool.ArgumentsAsBody = true
		tool.Description = cmp.Or(tool.Description, fmt.Sprintf("Invokes the AWS Lambda function %s (upstream %s) with the arguments as its event.", fn.Name, e.upstream))
	default:
		tool.ArgumentsAsBody = true
		tool.Description = cmp.Or(tool.Description, fmt.Sprintf("Calls the Azure function %s (upstream %s) with the arguments as its JSON body.", fn.Name, e.upstream))
	}
	if override.InputSchema != "" {
		tool.InputSchema = override.InputSchema
	}
	if tool.InputSchema == "" {
		tool.InputSchema = `{"type":"object","additionalProperties":true}`
	}
	return tool
}

func restDescription(e exposedFunction) string {
	r := e.fn.REST
	parts := []string{}
	for _, s := range []string{r.Summary, r.Description} {
		if s != "" && !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	parts = append(parts, fmt.Sprintf("(%s %s on upstream %s)", r.Method, r.Path, e.upstream))
	return strings.Join(parts, "\n\n")
}

// schemaProperty is one property of a tool's input schema.
type schemaProperty struct {
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

// restInput is a REST function's input schema (its path, query, header
// and body parameters as properties) and where each argument goes. A name
// two parameters share is the first's (path, then query, header, body).
func restInput(r *functions.RESTFunction) (string, []ir.MCPArg) {
	props := map[string]schemaProperty{}
	var required []string
	var args []ir.MCPArg
	order := []functions.ParameterIn{functions.InPath, functions.InQuery, functions.InHeader, functions.InBody}
	for _, in := range order {
		for k, p := range r.Parameters {
			if p.In != in || props[p.Name] != (schemaProperty{}) || strings.ContainsAny(p.Name, `"{}`) {
				continue
			}
			props[p.Name] = schemaProperty{Type: cmp.Or(p.Type, "string"), Description: p.Description}
			if p.Required || p.In == functions.InPath {
				required = append(required, p.Name)
			}
			arg := ir.MCPArg{Name: p.Name, In: string(p.In)}
			if p.In != functions.InBody {
				arg.Header = toolArgHeader + strconv.Itoa(k)
			}
			args = append(args, arg)
		}
	}
	schema := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		schema["required"] = required
	}
	b, _ := json.Marshal(schema) // maps of strings: cannot fail
	return string(b), args
}

// toolRoute is the route a tool's calls take: a copy of the virtual
// service's route that serves the function, else one to the function with
// the MCP route's options; either matches only the tool's path.
func (t *translation) toolRoute(vs *api.VirtualService, mcpRoute *api.Route, e exposedFunction, tool *ir.MCPTool) *api.Route {
	out := api.Route{Options: mcpRoute.Options}
	if serving := servingRoute(vs, e); serving != nil {
		out = *serving
	}
	dest := api.Destination{Upstream: &api.ResourceRef{Namespace: e.upstream.Namespace, Name: e.upstream.Name}}
	if out.RouteAction != nil && out.RouteAction.Single != nil {
		dest = *out.RouteAction.Single
	}
	dest.DestinationSpec = toolDestination(e.fn, dest.DestinationSpec, tool.Args)
	out.RouteAction = &api.RouteAction{Single: &dest}
	out.Name = vs.Namespace + "_" + vs.Name + "-mcp-" + tool.Name
	out.Matchers = []api.Matcher{{Exact: tool.Path}}
	return &out
}

// servingRoute is the first route of the virtual service that calls the
// function from a single destination.
func servingRoute(vs *api.VirtualService, e exposedFunction) *api.Route {
	for k := range vs.Spec.VirtualHost.Routes {
		r := &vs.Spec.VirtualHost.Routes[k]
		if r.RouteAction == nil || r.RouteAction.Single == nil || r.RouteAction.Single.Upstream == nil {
			continue
		}
		d := r.RouteAction.Single
		if d.Upstream.Ref(vs.Namespace) == e.upstream && destinationFunction(d.DestinationSpec) == e.fn.Name {
			return r
		}
	}
	return nil
}

func destinationFunction(d *api.DestinationSpec) string {
	switch {
	case d == nil:
		return ""
	case d.Rest != nil:
		return d.Rest.FunctionName
	case d.AWS != nil:
		return d.AWS.LogicalName
	case d.Azure != nil:
		return d.Azure.FunctionName
	}
	return ""
}

// toolDestination calls the function; a REST function reads its path,
// query and header parameters from the call's argument headers. What the
// serving route set beside (Lambda's event wrapping, a response
// transformation) is kept.
func toolDestination(fn *functions.Function, serving *api.DestinationSpec, args []ir.MCPArg) *api.DestinationSpec {
	var out api.DestinationSpec
	if serving != nil {
		out = *serving
	}
	switch {
	case fn.REST != nil:
		rest := api.RestDestinationSpec{FunctionName: fn.Name}
		if out.Rest != nil {
			rest.ResponseTransformation = out.Rest.ResponseTransformation
		}
		headers := map[string]string{}
		for _, a := range args {
			if a.Header != "" {
				headers[a.Header] = "{" + a.Name + "}"
			}
		}
		rest.Parameters = &api.Parameters{Headers: headers}
		out.Rest = &rest
	case fn.Lambda != nil && out.AWS == nil:
		out.AWS = &api.AWSDestinationSpec{LogicalName: fn.Name}
	case fn.Azure != nil && out.Azure == nil:
		out.Azure = &api.AzureDestinationSpec{FunctionName: fn.Name}
	}
	return &out
}
