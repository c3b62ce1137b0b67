package adapter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"

	"github.com/gluon-gateway/gluon/envoy-filters/mcp"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/mcpwire"
)

// mcpSessions are the MCP sessions of this Envoy process: they outlive
// route configs, as in the data plane.
var mcpSessions = mcp.NewSessions()

// MCPParser parses the plugin's route configs; its listener config is
// empty. A compiled config tells the sessions of its tool list.
var MCPParser = routeOnlyParser[*mcp.Config]{plugin: mcp.PluginName, listenerType: mcpwire.ListenerType,
	routeType: mcpwire.RouteType, compile: func(js []byte) (*mcp.Config, error) {
		c, err := mcp.ParseRouteConfig(js)
		if err == nil {
			mcpSessions.Observe(c)
		}
		return c, err
	}}

// MCPFactory implements api.StreamFilterFactory.
func MCPFactory(config interface{}, callbacks api.FilterCallbackHandler) api.StreamFilter {
	c, _ := config.(*mcp.Config)
	return &mcpFilter{config: c, callbacks: callbacks}
}

// mcpFilter answers an MCP route's POSTs and DELETEs. Envoy's golang filter
// cannot hold a response stream open, so there is no GET stream under
// Envoy (405, which the transport allows): clients see tool changes when
// they list again. Tool calls go to the listener's own address.
type mcpFilter struct {
	api.PassThroughStreamFilter
	config    *mcp.Config
	callbacks api.FilterCallbackHandler
	headers   api.RequestHeaderMap
}

func (f *mcpFilter) DecodeHeaders(h api.RequestHeaderMap, endStream bool) api.StatusType {
	if f.config == nil {
		return api.Continue
	}
	get := func(name string) string { v, _ := h.Get(name); return v }
	if reply, ok := mcp.CheckOrigin(get, h.Host()); !ok {
		return f.reply(reply)
	}
	switch h.Method() {
	case http.MethodPost:
		if endStream {
			return f.reply(mcp.Reply{Status: http.StatusBadRequest, Body: mcp.ErrorReply(mcp.CodeParseError, "empty message")})
		}
		f.headers = h
		return api.StopAndBuffer
	case http.MethodDelete:
		if mcpSessions.Delete(f.config.Endpoint, get("mcp-session-id")) {
			return f.reply(mcp.Reply{Status: http.StatusNoContent})
		}
		return f.reply(mcp.Reply{Status: http.StatusNotFound, Body: mcp.ErrorReply(mcp.CodeInvalidRequest, "no such session")})
	}
	return f.reply(mcp.Reply{Status: http.StatusMethodNotAllowed, Body: mcp.ErrorReply(mcp.CodeInvalidRequest, "this MCP endpoint takes POST and DELETE")})
}

func (f *mcpFilter) DecodeData(buf api.BufferInstance, endStream bool) api.StatusType {
	if f.headers == nil {
		return api.Continue
	}
	if !endStream {
		if buf.Len() > f.config.MaxMessageBytes {
			return f.reply(mcp.Reply{Status: http.StatusRequestEntityTooLarge, Body: mcp.ErrorReply(mcp.CodeInvalidRequest, "message too large")})
		}
		return api.StopAndBuffer
	}
	body := bytes.Clone(buf.Bytes())
	h := f.headers
	get := func(name string) string { v, _ := h.Get(name); return v }
	caller := &listenerCaller{addr: f.callbacks.StreamInfo().DownstreamLocalAddress(), host: h.Host(), scheme: h.Scheme(), parent: h}
	go func() {
		defer f.callbacks.DecoderFilterCallbacks().RecoverPanic()
		f.reply(f.config.HandlePost(context.Background(), mcpSessions, get, body, caller))
	}()
	return api.Running
}

func (f *mcpFilter) reply(r mcp.Reply) api.StatusType {
	headers := map[string][]string{}
	if r.Body != nil {
		headers["content-type"] = []string{"application/json"}
	}
	if r.SessionID != "" {
		headers["mcp-session-id"] = []string{r.SessionID}
	}
	f.callbacks.DecoderFilterCallbacks().SendLocalReply(r.Status, string(r.Body), headers, -1, "gluon_mcp")
	return api.LocalReply
}

// listenerCaller sends a tool call to the listener that took the MCP
// request, over plain HTTP: an HTTPS listener's calls fail with a clear
// error (the data plane dispatches in-process and has no such limit).
type listenerCaller struct {
	addr, host, scheme string
	parent             api.RequestHeaderMap
}

var mcpCallClient = &http.Client{Timeout: 60 * time.Second}

func (c *listenerCaller) Call(ctx context.Context, call *mcp.CallRequest) (*mcp.CallResult, error) {
	if c.scheme == "https" {
		return nil, fmt.Errorf("tool calls from an HTTPS listener are not supported under Envoy yet")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.addr+call.Path, bytes.NewReader(call.Body))
	if err != nil {
		return nil, err
	}
	req.Host = c.host
	c.parent.Range(func(k, v string) bool {
		if mcp.Carries(k) {
			req.Header.Add(k, v)
		}
		return true
	})
	for _, h := range call.Headers {
		req.Header.Set(h[0], h[1])
	}
	res, err := mcpCallClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	return &mcp.CallResult{Status: res.StatusCode, Header: res.Header, Body: body}, nil
}
