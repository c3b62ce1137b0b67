package dataplane

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gluon-gateway/gluon/dataplane/internal/downstream"
	"github.com/gluon-gateway/gluon/envoy-filters/lambda"
	"github.com/gluon-gateway/gluon/envoy-filters/transformation"
)

// pluginStream is one request's pass through a Gluon plugin, whichever it
// is: runPlugin and transformWriter drive it the way Envoy's golang filter
// drives the plugin's decode and encode callbacks.
type pluginStream interface {
	RequestNeedsBody() bool
	ResponseNeedsBody() bool
	MaxBody() int
	// setMaxBody replaces the stream's body limit with the proxy's.
	setMaxBody(int)
	// function names the function the stream calls, for its statistics;
	// ok is false for plugins that call none.
	function() (k functionKey, ok bool)
	onRequest(h *requestHeaders, body []byte) ([]byte, bool, *pluginLocalReply)
	onResponse(h *responseHeaders, body []byte) ([]byte, bool, *pluginLocalReply)
}

// pluginLocalReply is a plugin's answer in place of the upstream's.
type pluginLocalReply struct {
	status  int
	body    string
	headers map[string]string
}

func tooLargeReply(limit int) *pluginLocalReply {
	lr := transformation.TooLarge(limit)
	return &pluginLocalReply{status: lr.Status, body: lr.Body}
}

type transformationStream struct{ *transformation.Stream }

func (s transformationStream) function() (functionKey, bool) {
	upstream, fn := s.Function()
	return functionKey{upstream: upstream, function: fn, kind: "rest"}, fn != ""
}

func (s transformationStream) setMaxBody(n int) { s.SetMaxBody(n) }

func (s transformationStream) onRequest(h *requestHeaders, body []byte) ([]byte, bool, *pluginLocalReply) {
	b, changed, lr := s.OnRequest(h, body)
	return b, changed, fromTransformation(lr)
}

func (s transformationStream) onResponse(h *responseHeaders, body []byte) ([]byte, bool, *pluginLocalReply) {
	b, changed, lr := s.OnResponse(h, body)
	return b, changed, fromTransformation(lr)
}

func fromTransformation(lr *transformation.LocalReply) *pluginLocalReply {
	if lr == nil {
		return nil
	}
	return &pluginLocalReply{status: lr.Status, body: lr.Body}
}

// lambdaStream adapts the Lambda logic: it always buffers both bodies, as
// the request body is signed and the response may be unwrapped.
type lambdaStream struct {
	*lambda.Stream
	max int // the proxy's buffer limit; 0: Lambda's payload limit
}

func (s *lambdaStream) RequestNeedsBody() bool { return true }

func (s *lambdaStream) setMaxBody(n int) { s.max = n }

func (s *lambdaStream) function() (functionKey, bool) {
	upstream, fn := s.Function()
	return functionKey{upstream: upstream, function: fn, kind: "lambda"}, fn != ""
}

func (s *lambdaStream) MaxBody() int {
	if s.max > 0 {
		return s.max
	}
	return s.Stream.MaxBody()
}

func (s *lambdaStream) onRequest(h *requestHeaders, body []byte) ([]byte, bool, *pluginLocalReply) {
	s.SetClient(lambda.Client{Address: h.r.RemoteAddr, Protocol: envoyProtocol(h.r), ReceivedNames: downstream.ReceivedNames(h.r.Context())})
	payload, lr := s.OnRequest(h, body)
	return payload, lr == nil, fromLambda(lr)
}

func (s *lambdaStream) onResponse(h *responseHeaders, body []byte) ([]byte, bool, *pluginLocalReply) {
	b, changed, lr := s.OnResponse(h, body)
	return b, changed, fromLambda(lr)
}

func fromLambda(lr *lambda.LocalReply) *pluginLocalReply {
	if lr == nil {
		return nil
	}
	if lr.Detail != "" {
		// Plugins get no logger of their own; the default one is the process's.
		slog.Warn(lr.Detail, "plugin", lambda.PluginName)
	}
	return &pluginLocalReply{status: lr.Status, body: lr.Body, headers: lr.Headers}
}

// pluginMiddleware compiles a plugin's per-route configs against a route
// table and runs a stream of it on each request whose route has one; other
// requests pass through, as Envoy's filter does without a route config.
func pluginMiddleware[R comparable](rt *routeTable, plugin string, compile func([]byte) (R, error), stream func(R) pluginStream) (middleware, error) {
	routes, err := compileRoutes(rt, plugin, compile)
	if err != nil {
		return nil, err
	}
	var none R
	return func(next handler, _ map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			if m.route == nil || routes[m.route.idx] == none {
				next(w, r, m)
				return
			}
			runPlugin(stream(routes[m.route.idx]), next, w, r, m)
		}
	}, nil
}

// envoyProtocol names a request's HTTP version as Envoy's stream info does.
func envoyProtocol(r *http.Request) string {
	if r.ProtoMajor >= 2 {
		return "HTTP/" + strconv.Itoa(r.ProtoMajor)
	}
	return r.Proto
}
