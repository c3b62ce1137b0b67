package api

import (
	"encoding/json"
	"path"
	"regexp"
	"strings"
)

// MCPAction serves the functions behind the gateway as the tools of a
// Model Context Protocol server (Streamable HTTP) at the route's path. A
// tool call is a request through the route that serves the function, with
// that route's options (or, when no route serves it, through one with this
// route's options).
type MCPAction struct {
	// Upstreams and UpstreamSelector (labels, in the virtual service's
	// namespace) choose the upstreams whose functions become tools; an
	// upstream either selects is exposed.
	Upstreams        []ResourceRef     `json:"upstreams,omitempty"`
	UpstreamSelector map[string]string `json:"upstreamSelector,omitempty"`
	// Include and Exclude are glob patterns (path.Match) over function
	// names: a function is a tool when it matches an Include pattern (or
	// there are none) and no Exclude pattern.
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
	// Tools overrides what discovery says of a tool, by tool name.
	Tools map[string]MCPTool `json:"tools,omitempty"`
	// MaxSessions bounds the open sessions (default 1000); MaxMessageBytes
	// a JSON-RPC message (default 1 MiB).
	MaxSessions     int `json:"maxSessions,omitempty"`
	MaxMessageBytes int `json:"maxMessageBytes,omitempty"`
}

// MCPTool is what config says of one tool in place of discovery.
type MCPTool struct {
	Description string `json:"description,omitempty"`
	// InputSchema is a JSON Schema object (as JSON text) for the tool's
	// arguments: Lambda and Azure functions have none of their own.
	InputSchema string `json:"inputSchema,omitempty"`
}

// toolName is what MCP allows a tool's name to be.
var toolName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

func validateMCP(f *fieldErrors, at string, m *MCPAction) {
	if len(m.Upstreams) == 0 && len(m.UpstreamSelector) == 0 {
		f.add(at, "one of upstreams, upstreamSelector is required")
	}
	for i, u := range m.Upstreams {
		if u.Name == "" {
			f.add(idx(at+".upstreams", i)+".name", "is required")
		}
	}
	for field, globs := range map[string][]string{"include": m.Include, "exclude": m.Exclude} {
		for i, g := range globs {
			if _, err := path.Match(g, ""); err != nil {
				f.add(idx(at+"."+field, i), "%q is not a glob pattern: %v", g, err)
			}
		}
	}
	for name, t := range m.Tools {
		p := at + ".tools[" + name + "]"
		if !toolName.MatchString(name) {
			f.add(p, "a tool name is 1 to 128 letters, digits, '_', '-' or '.'")
		}
		if t.InputSchema != "" {
			validateSchemaText(f, p+".inputSchema", t.InputSchema)
		}
	}
	if m.MaxSessions < 0 {
		f.add(at+".maxSessions", "must not be negative")
	}
	if m.MaxMessageBytes < 0 {
		f.add(at+".maxMessageBytes", "must not be negative")
	}
}

// validateSchemaText checks that a tool's schema is a JSON object whose
// type, if given, is "object", as MCP requires of tool schemas.
func validateSchemaText(f *fieldErrors, at, text string) {
	var s map[string]any
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		f.add(at, "is not a JSON object: %v", err)
		return
	}
	if t, ok := s["type"]; ok && t != "object" {
		f.add(at, `a tool's input schema must have type "object", got %v`, t)
	}
	if strings.Contains(text, `"$ref"`) {
		f.add(at, "references ($ref) are not allowed: write the schema out")
	}
}
