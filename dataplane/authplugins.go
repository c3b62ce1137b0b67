package dataplane

import (
	"github.com/gluon-gateway/gluon/envoy-filters/basicauth"
	"github.com/gluon-gateway/gluon/envoy-filters/clientheaders"
)

// routeOnlyPlugin runs a Gluon plugin whose listener config is empty and
// whose routes read or rewrite request headers only.
type routeOnlyPlugin func(rt *routeTable) (middleware, error)

func (p routeOnlyPlugin) withRoutes(rt *routeTable) (middleware, error) { return p(rt) }

// newClientHeadersFilter runs gluon.client_headers: an admitted client's
// headers.
func newClientHeadersFilter([]byte) (httpFilter, error) {
	return routeOnlyPlugin(func(rt *routeTable) (middleware, error) {
		return pluginMiddleware(rt, clientheaders.PluginName, clientheaders.CompileRoute, func(r *clientheaders.Route) pluginStream {
			return requestHeadersStream(func(h *requestHeaders) *pluginLocalReply { r.OnRequest(h); return nil })
		})
	}), nil
}

// newBasicAuthPlugin runs gluon.basic_auth: bcrypt and {SHA} users.
func newBasicAuthPlugin([]byte) (httpFilter, error) {
	return routeOnlyPlugin(func(rt *routeTable) (middleware, error) {
		return pluginMiddleware(rt, basicauth.PluginName, basicauth.CompileRoute, func(r *basicauth.Route) pluginStream {
			return requestHeadersStream(func(h *requestHeaders) *pluginLocalReply {
				if lr := r.OnRequest(h); lr != nil {
					return &pluginLocalReply{status: lr.Status, body: lr.Body, headers: lr.Headers}
				}
				return nil
			})
		})
	}), nil
}

// requestHeadersStream is a plugin's pass over request headers only:
// neither body is buffered, the response passes through, and no function
// is called.
type requestHeadersStream func(*requestHeaders) *pluginLocalReply

func (requestHeadersStream) RequestNeedsBody() bool  { return false }
func (requestHeadersStream) ResponseNeedsBody() bool { return false }

// MaxBody is never used: nothing is buffered.
func (requestHeadersStream) MaxBody() int { return 0 }

func (requestHeadersStream) setMaxBody(int) {}

func (requestHeadersStream) function() (functionKey, bool) { return functionKey{}, false }

func (s requestHeadersStream) onRequest(h *requestHeaders, _ []byte) ([]byte, bool, *pluginLocalReply) {
	return nil, false, s(h)
}

func (requestHeadersStream) onResponse(*responseHeaders, []byte) ([]byte, bool, *pluginLocalReply) {
	return nil, false, nil
}
