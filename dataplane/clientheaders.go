package dataplane

import (
	"github.com/gluon-gateway/gluon/envoy-filters/clientheaders"
)

// clientHeadersFilter runs the gluon.client_headers plugin on one
// listener; its listener config is empty.
type clientHeadersFilter struct{}

func newClientHeadersFilter([]byte) (httpFilter, error) { return clientHeadersFilter{}, nil }

func (clientHeadersFilter) withRoutes(rt *routeTable) (middleware, error) {
	return pluginMiddleware(rt, clientheaders.PluginName, clientheaders.CompileRoute, func(r *clientheaders.Route) pluginStream { return clientHeadersStream{r} })
}

// clientHeadersStream adapts the client headers logic: it sets request
// headers only, so neither body is buffered.
type clientHeadersStream struct{ route *clientheaders.Route }

func (clientHeadersStream) RequestNeedsBody() bool  { return false }
func (clientHeadersStream) ResponseNeedsBody() bool { return false }

// MaxBody is never used: nothing is buffered.
func (clientHeadersStream) MaxBody() int { return 0 }

func (clientHeadersStream) setMaxBody(int) {}

func (clientHeadersStream) function() (functionKey, bool) { return functionKey{}, false }

func (s clientHeadersStream) onRequest(h *requestHeaders, _ []byte) ([]byte, bool, *pluginLocalReply) {
	s.route.OnRequest(h)
	return nil, false, nil
}

func (clientHeadersStream) onResponse(*responseHeaders, []byte) ([]byte, bool, *pluginLocalReply) {
	return nil, false, nil
}
