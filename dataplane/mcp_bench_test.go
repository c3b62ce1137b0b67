package dataplane

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	golangv3alpha "github.com/envoyproxy/go-control-plane/contrib/envoy/extensions/filters/http/golang/v3alpha"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/mcpwire"
)

// BenchmarkMCPToolCall compares a tools/call through the data plane's MCP
// route with the same request sent directly to the tool's route: the
// difference is what MCP adds (protocol, argument placement, the
// in-process dispatch, result mapping).
func BenchmarkMCPToolCall(b *testing.B) {
	e := newEnv(b)
	backendSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id": 7, "name": "Rex"}`)
	}))
	b.Cleanup(backendSrv.Close)
	mcpRoute := directRoute("/mcp", 501, "no MCP filter")
	cfg := `{"endpoint": "bench", "maxSessions": 10, "maxMessageBytes": 65536, "tools": [{"name": "findPet", "path": "/mcp/_tools/findPet",
		"inputSchema": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
		"args": [{"name": "id", "in": "path", "header": "x-gluon-tool-arg-0"}]}]}`
	rp := &golangv3alpha.RouterPlugin{Override: &golangv3alpha.RouterPlugin_Config{Config: typedStruct(b, mcpwire.RouteType, cfg)}}
	mcpRoute.TypedPerFilterConfig = map[string]*anypb.Any{mcpwire.PluginName: mustAny(b, &golangv3alpha.ConfigsPerRoute{PluginsConfig: map[string]*golangv3alpha.RouterPlugin{mcpwire.PluginName: rp}})}
	rc := routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/mcp/_tools/findPet", "b"), mcpRoute))
	r := e.basic(rc, map[string]*httptest.Server{"b": backendSrv})
	r.listeners = []types.Resource{httpListener(e.t, "http", e.port, rc.Name, pluginFilter(b, mcpwire.PluginName, mcpwire.ListenerType, `{}`), routerFilter(e.t))}
	e.push(r)
	base := "http://127.0.0.1:" + itoa(e.port)
	post := func(path, sid, body string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
		}
		return req
	}
	res, err := e.client.Do(post("/mcp", "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}`))
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("initialize: %v %v", err, res)
	}
	res.Body.Close()
	sid := res.Header.Get("Mcp-Session-Id")
	run := func(b *testing.B, mk func() *http.Request, want string) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := e.client.Do(mk())
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(body), want) {
				b.Fatalf("%d %s", res.StatusCode, body)
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		run(b, func() *http.Request {
			req := post("/mcp/_tools/findPet", "", "")
			req.Header.Set("X-Gluon-Tool-Arg-0", "7")
			return req
		}, `"Rex"`)
	})
	b.Run("tools-call", func(b *testing.B) {
		run(b, func() *http.Request {
			return post("/mcp", sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"findPet","arguments":{"id":7}}}`)
		}, `Rex`)
	})
}
