package dataplane

import (
	"github.com/gluon-gateway/gluon/envoy-filters/basicauth"
)

// basicAuthPlugin runs the gluon.basic_auth plugin on one listener; its
// listener config is empty.
type basicAuthPlugin struct{}

func newBasicAuthPlugin([]byte) (httpFilter, error) { return basicAuthPlugin{}, nil }

func (basicAuthPlugin) withRoutes(rt *routeTable) (middleware, error) {
	return pluginMiddleware(rt, basicauth.PluginName, basicauth.CompileRoute, func(r *basicauth.Route) pluginStream { return basicAuthStream{r} })
}

// basicAuthStream adapts the basic auth logic: it reads request headers
// only, so neither body is buffered.
type basicAuthStream struct{ route *basicauth.Route }

func (basicAuthStream) RequestNeedsBody() bool  { return false }
func (basicAuthStream) ResponseNeedsBody() bool { return false }

// MaxBody is never used: nothing is buffered.
func (basicAuthStream) MaxBody() int { return 0 }

func (basicAuthStream) setMaxBody(int) {}

func (basicAuthStream) function() (functionKey, bool) { return functionKey{}, false }

func (s basicAuthStream) onRequest(h *requestHeaders, _ []byte) ([]byte, bool, *pluginLocalReply) {
	if lr := s.route.OnRequest(h); lr != nil {
		return nil, false, &pluginLocalReply{status: lr.Status, body: lr.Body, headers: lr.Headers}
	}
	return nil, false, nil
}

func (basicAuthStream) onResponse(*responseHeaders, []byte) ([]byte, bool, *pluginLocalReply) {
	return nil, false, nil
}
