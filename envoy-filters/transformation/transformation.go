// Package transformation is the logic of Gluon's transformation HTTP filter
// (golang plugin "gluon.transformation"): it applies a route's compiled
// transformation to the request and response. It works on plain header maps
// and buffered bodies, so the same code runs inside Envoy (through the
// plugin's api.StreamFilter adapter) and natively in the embedded data plane.
package transformation

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/transformationwire"
	"github.com/gluon-gateway/gluon/transform"
	"github.com/gluon-gateway/gluon/transform/spec"
)

// The wire contract, defined in transformationwire.
const PluginName = transformationwire.PluginName

// ListenerConfig is the filter's listener-level config.
type ListenerConfig = transformationwire.ListenerConfig

// Filter is the filter's listener-level state: the engine routes compile with.
type Filter struct {
	engine *transform.Engine
}

// NewFilter parses the listener-level config (JSON; empty means none).
func NewFilter(configJSON []byte) (*Filter, error) {
	var cfg ListenerConfig
	if len(configJSON) > 0 {
		if err := json.Unmarshal(configJSON, &cfg); err != nil {
			return nil, fmt.Errorf("%s: listener config: %w", PluginName, err)
		}
	}
	env := map[string]string{}
	for _, name := range cfg.AllowedEnv {
		env[name] = os.Getenv(name)
	}
	return &Filter{engine: transform.NewEngine(transform.Options{Env: env})}, nil
}

// Route is a route's compiled transformation.
type Route struct {
	t  *transform.Transformation
	fn *spec.Function
}

// CompileRoute parses and compiles a route's config: a spec.Spec as JSON.
func (f *Filter) CompileRoute(specJSON []byte) (*Route, error) {
	var s spec.Spec
	if err := json.Unmarshal(specJSON, &s); err != nil {
		return nil, fmt.Errorf("%s: route config: %w", PluginName, err)
	}
	t, err := f.engine.Compile(&s)
	if err != nil {
		return nil, fmt.Errorf("%s: route config: %w", PluginName, err)
	}
	return &Route{t: t, fn: s.Function}, nil
}

// LocalReply is what the filter answers instead of forwarding.
type LocalReply struct {
	Status int
	Body   string
}

// Stream is one request's pass through the filter.
type Stream struct {
	route      *Route
	reqHeaders transform.Headers
	maxBody    int // 0: the engine's limit
}

// SetMaxBody replaces the body limit for this request: the proxy's buffer
// limit on its route, when one is configured.
func (s *Stream) SetMaxBody(n int) { s.maxBody = n }

// NewStream starts a request on a route (nil: the route has no transformation).
func (r *Route) NewStream() *Stream { return &Stream{route: r} }

// Function names the REST function the stream calls: its upstream and
// name, empty when the route calls none.
func (s *Stream) Function() (upstream, function string) {
	if s.route == nil || s.route.fn == nil {
		return "", ""
	}
	return s.route.fn.Upstream, s.route.fn.Name
}

// RequestNeedsBody says whether the request body must be buffered first.
func (s *Stream) RequestNeedsBody() bool {
	return s.route != nil && s.route.t.Request != nil && s.route.t.Request.NeedsBody()
}

// ResponseNeedsBody says whether the response body must be buffered first.
func (s *Stream) ResponseNeedsBody() bool {
	return s.route != nil && s.route.t.Response != nil && s.route.t.Response.NeedsBody()
}

// MaxBody is the largest body the stream buffers.
func (s *Stream) MaxBody() int {
	if s.route == nil {
		return 0
	}
	if s.maxBody > 0 {
		return s.maxBody
	}
	for _, c := range []*transform.Compiled{s.route.t.Request, s.route.t.Response} {
		if c != nil {
			return c.MaxBody()
		}
	}
	return 0
}

// OnRequest transforms the request headers (and body, when buffered).
// It returns the new body when changed, or a local reply on failure.
func (s *Stream) OnRequest(h transform.Headers, body []byte) ([]byte, bool, *LocalReply) {
	s.reqHeaders = h
	if s.route == nil || s.route.t.Request == nil {
		return nil, false, nil
	}
	return apply(s.route.t.Request, transform.Input{Headers: h, Body: body, MaxBody: s.maxBody})
}

// OnResponse transforms the response headers (with :status) and body.
func (s *Stream) OnResponse(h transform.Headers, body []byte) ([]byte, bool, *LocalReply) {
	if s.route == nil || s.route.t.Response == nil {
		return nil, false, nil
	}
	return apply(s.route.t.Response, transform.Input{Headers: h, RequestHeaders: s.reqHeaders, Body: body, MaxBody: s.maxBody})
}

func apply(c *transform.Compiled, in transform.Input) ([]byte, bool, *LocalReply) {
	body, changed, err := c.Apply(in)
	if err != nil {
		reply := &LocalReply{Status: http.StatusInternalServerError, Body: err.Error() + "\n"}
		var re *transform.RenderError
		if errors.As(err, &re) {
			reply = &LocalReply{Status: re.Status, Body: re.Reason + "\n"}
		}
		// Where the filter runs (Envoy or the embedded data plane) the
		// default logger writes to the process's log.
		slog.Warn("transformation failed; answering locally", "plugin", PluginName, "status", reply.Status, "reason", err.Error())
		return nil, false, reply
	}
	if changed {
		// The body's length changed; the proxy must not forward the old one.
		in.Headers.Set("content-length", strconv.Itoa(len(body)))
	}
	return body, changed, nil
}

// TooLarge is the reply when a body exceeds what the filter buffers.
func TooLarge(limit int) *LocalReply {
	return &LocalReply{Status: http.StatusRequestEntityTooLarge, Body: fmt.Sprintf("body exceeds the transformation buffer of %d bytes\n", limit)}
}
