package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"
)

// toolsCommand lists what an MCP client sees at a gateway's MCP endpoint,
// by being one: it connects, pages through tools/list and hangs up.
func toolsCommand(o *options) *cobra.Command {
	var url string
	cmd := &cobra.Command{Use: "tools", Aliases: []string{"tool"}, Short: "Show the tools an MCP client sees at an MCP route (--url)", RunE: func(c *cobra.Command, _ []string) error {
		if url == "" {
			return fmt.Errorf("--url is required: the MCP route's URL, e.g. http://127.0.0.1:8080/mcp")
		}
		ctx, cancel := context.WithTimeout(c.Context(), 30*time.Second)
		defer cancel()
		tools, err := listTools(ctx, url)
		if err != nil {
			return err
		}
		return o.render(tools, func(w io.Writer) error { return toolsTable(tools).write(w) })
	}}
	cmd.Flags().StringVar(&url, "url", "", "the MCP endpoint (an MCP route of the gateway)")
	return cmd
}

func listTools(ctx context.Context, url string) ([]*mcp.Tool, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "gluonctl", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url, MaxRetries: -1}, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to the MCP endpoint %s: %w", url, err)
	}
	defer session.Close()
	var out []*mcp.Tool
	for tool, err := range session.Tools(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("tools/list: %w", err)
		}
		out = append(out, tool)
	}
	return out, nil
}

func toolsTable(tools []*mcp.Tool) *table {
	t := &table{headers: []string{"TOOL", "ARGUMENTS", "DESCRIPTION"}}
	for _, tool := range tools {
		desc, _, _ := strings.Cut(tool.Description, "\n")
		if len(desc) > 70 {
			desc = desc[:67] + "..."
		}
		t.add(tool.Name, toolArguments(tool.InputSchema), desc)
	}
	return t
}

// toolArguments lists a schema's properties, the required ones marked *.
func toolArguments(schema any) string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	b, _ := json.Marshal(schema)
	if json.Unmarshal(b, &s) != nil || len(s.Properties) == 0 {
		return "(any)"
	}
	var names []string
	for n := range s.Properties {
		for _, r := range s.Required {
			if r == n {
				n += "*"
				break
			}
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
