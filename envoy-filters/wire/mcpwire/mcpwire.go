// Package mcpwire is the wire contract of Gluon's MCP filter (golang plugin
// "gluon.mcp"): its name, the type URLs of its configs and their JSON
// shapes. It imports nothing but the standard library, so the translator,
// the data plane and the Envoy plugin share it.
package mcpwire

import "encoding/json"

// PluginName is the golang filter plugin; Gluon names the HTTP filter
// after it too.
const PluginName = "gluon.mcp"

// The type URLs of the TypedStructs that carry the configs. The listener
// config is empty: everything is per route.
const (
	ListenerType = "gluon.dev/mcp.ListenerConfig"
	RouteType    = "gluon.dev/mcp.RouteConfig"
)

// RouteConfig makes a route an MCP server (Streamable HTTP transport).
type RouteConfig struct {
	// Endpoint names the server across config versions (the route's
	// name): sessions outlive a config change, and are told when its
	// tools change.
	Endpoint        string `json:"endpoint"`
	Tools           []Tool `json:"tools,omitempty"`
	MaxSessions     int    `json:"maxSessions"`
	MaxMessageBytes int    `json:"maxMessageBytes"`
}

// Tool is one tool: what tools/list shows of it, and where a call goes.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"inputSchema"`
	ReadOnly    bool            `json:"readOnly,omitempty"`
	Destructive bool            `json:"destructive,omitempty"`
	// Path is the tool's own route, in the MCP route's virtual host: a
	// call is a request to it.
	Path string `json:"path"`
	Args []Arg  `json:"args,omitempty"`
	// ArgumentsAsBody sends the whole arguments object as the JSON body
	// (Lambda's event, an Azure function's input).
	ArgumentsAsBody bool `json:"argumentsAsBody,omitempty"`
}

// Arg places one argument in a call: path, query and header arguments in
// the header Header (escaped for where the tool's route puts them), body
// arguments as members of the JSON body.
type Arg struct {
	Name   string `json:"name"`
	In     string `json:"in"`
	Header string `json:"header,omitempty"`
}
