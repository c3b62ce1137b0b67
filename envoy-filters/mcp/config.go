// Package mcp is Gluon's MCP server: the Model Context Protocol's
// JSON-RPC methods (initialize, ping, tools/list, tools/call), its
// sessions and list-changed notifications, over the tools a route's
// config names. A tool call is handed to a Caller, which sends it through
// the proxy to the tool's own route. The Streamable HTTP transport around
// it is the data plane's (and the Envoy adapter's).
package mcp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/mcpwire"
)

// PluginName is the golang filter plugin this package implements.
const PluginName = mcpwire.PluginName

// Config is a route's MCP server, compiled.
type Config struct {
	mcpwire.RouteConfig
	tools map[string]*tool
	// listJSON is every tool as tools/list shows it, in order.
	listJSON []json.RawMessage
	// Version identifies the tool list: sessions are told when it changes.
	Version string
}

type tool struct {
	mcpwire.Tool
	schema *jsonschema.Resolved
}

// ParseRouteConfig reads and compiles a route's config: every tool's
// input schema must compile, its name be unique.
func ParseRouteConfig(js []byte) (*Config, error) {
	c := &Config{tools: map[string]*tool{}}
	if err := json.Unmarshal(js, &c.RouteConfig); err != nil {
		return nil, fmt.Errorf("mcp route config: %w", err)
	}
	if c.Endpoint == "" {
		return nil, fmt.Errorf("mcp route config: endpoint is required")
	}
	if c.MaxSessions <= 0 || c.MaxMessageBytes <= 0 {
		return nil, fmt.Errorf("mcp route config: maxSessions and maxMessageBytes must be positive")
	}
	h := sha256.New()
	for _, t := range c.Tools {
		if _, dup := c.tools[t.Name]; dup {
			return nil, fmt.Errorf("mcp route config: tool %q is named twice", t.Name)
		}
		var s jsonschema.Schema
		if err := json.Unmarshal(t.InputSchema, &s); err != nil {
			return nil, fmt.Errorf("mcp tool %q: input schema: %w", t.Name, err)
		}
		resolved, err := s.Resolve(nil)
		if err != nil {
			return nil, fmt.Errorf("mcp tool %q: input schema: %w", t.Name, err)
		}
		c.tools[t.Name] = &tool{Tool: t, schema: resolved}
		listed, err := json.Marshal(listedTool(t))
		if err != nil {
			return nil, fmt.Errorf("mcp tool %q: %w", t.Name, err)
		}
		c.listJSON = append(c.listJSON, listed)
		h.Write(listed)
	}
	c.Version = hex.EncodeToString(h.Sum(nil)[:12])
	return c, nil
}

// toolJSON is a tool as tools/list shows it.
type toolJSON struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"inputSchema"`
	Annotations *annotations    `json:"annotations,omitempty"`
}

type annotations struct {
	ReadOnlyHint    *bool `json:"readOnlyHint,omitempty"`
	DestructiveHint *bool `json:"destructiveHint,omitempty"`
}

func listedTool(t mcpwire.Tool) toolJSON {
	out := toolJSON{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema}
	yes, no := true, false
	switch {
	case t.ReadOnly:
		out.Annotations = &annotations{ReadOnlyHint: &yes, DestructiveHint: &no}
	case t.Destructive:
		out.Annotations = &annotations{ReadOnlyHint: &no, DestructiveHint: &yes}
	}
	return out
}
