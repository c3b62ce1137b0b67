package dataplane

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gluon-gateway/gluon/envoy-filters/mcp"
)

// mcpKeepalive is how often an idle GET stream gets an SSE comment, so
// that neither the proxy's nor the client's idle timeout ends it.
const mcpKeepalive = 20 * time.Second

// mcpMaxResult bounds the response of a tool's route the result carries.
const mcpMaxResult = 8 << 20

// newMCPFilter runs gluon.mcp: routes that are MCP servers (Streamable
// HTTP) are answered here; their tool calls go back through the
// listener's connection manager to each tool's route. sessions outlive
// configs.
func newMCPFilter(sessions *mcp.Sessions) func([]byte) (httpFilter, error) {
	return func([]byte) (httpFilter, error) {
		return routeOnlyPlugin(func(rt *routeTable) (middleware, error) {
			routes, err := compileRoutes(rt, mcp.PluginName, mcp.ParseRouteConfig)
			if err != nil {
				return nil, err
			}
			return func(next handler, _ map[string]*upstreamCluster) handler {
				// Built for the config about to serve: its tool lists are
				// staged, and published once it serves (state.build).
				for _, c := range routes {
					if c != nil {
						sessions.Stage(c)
					}
				}
				return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
					if m.route == nil || routes[m.route.idx] == nil {
						next(w, r, m)
						return
					}
					serveMCP(w, r, m, routes[m.route.idx], sessions)
				}
			}, nil
		}), nil
	}
}

func serveMCP(w http.ResponseWriter, r *http.Request, m *routeMatch, c *mcp.Config, sessions *mcp.Sessions) {
	headers := func(name string) string { return r.Header.Get(name) }
	if reply, ok := mcp.CheckOrigin(headers, r.Host); !ok {
		writeMCPReply(w, reply)
		return
	}
	switch r.Method {
	case http.MethodPost:
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			writeMCPReply(w, mcp.Reply{Status: http.StatusUnsupportedMediaType, Body: mcp.ErrorReply(mcp.CodeInvalidRequest, "Content-Type must be application/json")})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, int64(c.MaxMessageBytes)+1))
		if err != nil {
			writeMCPReply(w, mcp.Reply{Status: http.StatusBadRequest, Body: mcp.ErrorReply(mcp.CodeParseError, "reading the message: "+err.Error())})
			return
		}
		writeMCPReply(w, c.HandlePost(r.Context(), sessions, headers, body, &mcpCaller{hcm: m.hcm, parent: r}))
	case http.MethodGet:
		streamMCP(w, r, c, sessions)
	case http.MethodDelete:
		if !sessions.Delete(c.Endpoint, r.Header.Get("Mcp-Session-Id")) {
			writeMCPReply(w, mcp.Reply{Status: http.StatusNotFound, Body: mcp.ErrorReply(mcp.CodeInvalidRequest, "no such session")})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeMCPReply(w, mcp.Reply{Status: http.StatusMethodNotAllowed, Body: mcp.ErrorReply(mcp.CodeInvalidRequest, "an MCP endpoint takes POST, GET and DELETE")})
	}
}

func writeMCPReply(w http.ResponseWriter, reply mcp.Reply) {
	if reply.SessionID != "" {
		w.Header().Set("Mcp-Session-Id", reply.SessionID)
	}
	if reply.Body == nil {
		w.WriteHeader(reply.Status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(reply.Status)
	w.Write(reply.Body)
}

// streamMCP is a session's GET stream: the server's messages to it
// (tools/list_changed) as server-sent events, until the client goes, the
// session ends, or a newer stream of the session replaces it.
func streamMCP(w http.ResponseWriter, r *http.Request, c *mcp.Config, sessions *mcp.Sessions) {
	if !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		writeMCPReply(w, mcp.Reply{Status: http.StatusNotAcceptable, Body: mcp.ErrorReply(mcp.CodeInvalidRequest, "a GET stream must accept text/event-stream")})
		return
	}
	sess, ok := sessions.Get(c.Endpoint, r.Header.Get("Mcp-Session-Id"))
	if !ok {
		writeMCPReply(w, mcp.Reply{Status: http.StatusNotFound, Body: mcp.ErrorReply(mcp.CodeInvalidRequest, "no such session: initialize first")})
		return
	}
	ctx, end := context.WithCancel(r.Context())
	defer end()
	defer sess.OpenStream(end)()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(mcpKeepalive)
	defer tick.Stop()
	for {
		var err error
		select {
		case msg := <-sess.Notify:
			_, err = fmt.Fprintf(w, "event: message\ndata: %s\n\n", msg)
		case <-tick.C:
			_, err = io.WriteString(w, ": keepalive\n\n")
		case <-ctx.Done():
			return
		case <-sess.Done:
			return
		}
		if err != nil || rc.Flush() != nil {
			return
		}
	}
}

// mcpCaller sends tool calls through the listener: a request to the tool's
// route on the MCP request's host, from its client, with its headers
// (credentials among them) but for those of MCP and of the body.
type mcpCaller struct {
	hcm    *hcm
	parent *http.Request
}

func (c *mcpCaller) Call(ctx context.Context, call *mcp.CallRequest) (*mcp.CallResult, error) {
	if c.hcm == nil {
		return nil, fmt.Errorf("no connection manager to send the call through")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, call.Path, bytes.NewReader(call.Body))
	if err != nil {
		return nil, fmt.Errorf("tool call: %w", err)
	}
	p := c.parent
	req.Host, req.RemoteAddr, req.TLS, req.RequestURI = p.Host, p.RemoteAddr, p.TLS, call.Path
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.1", 1, 1
	req.Header = make(http.Header, len(p.Header))
	for name, values := range p.Header {
		if mcp.Carries(name) {
			req.Header[name] = values
		}
	}
	for _, h := range call.Headers {
		req.Header.Set(h[0], h[1])
	}
	rec := &callRecorder{header: http.Header{}}
	c.hcm.ServeHTTP(rec, req)
	return &mcp.CallResult{Status: rec.status(), Header: rec.header, Body: rec.body.Bytes()}, nil
}

// callRecorder keeps a tool route's response, its body bounded.
type callRecorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *callRecorder) Header() http.Header { return r.header }

func (r *callRecorder) WriteHeader(code int) {
	if r.code == 0 && code >= 200 {
		r.code = code
	}
}

func (r *callRecorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	if room := mcpMaxResult - r.body.Len(); room > 0 {
		r.body.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// Flush is a no-op: the whole response is kept.
func (r *callRecorder) Flush() {}

func (r *callRecorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}
