package dataplane

import (
	"log/slog"

	"github.com/gluon-gateway/gluon/envoy-filters/azure"
)

// azureFilter runs the gluon.azure_functions plugin on one listener.
type azureFilter struct{ f *azure.Filter }

func newAzureFilter(configJSON []byte) (httpFilter, error) {
	f, err := azure.NewFilter(configJSON)
	if err != nil {
		return nil, err
	}
	return azureFilter{f}, nil
}

func (af azureFilter) withRoutes(rt *routeTable) (middleware, error) {
	return pluginMiddleware(rt, azure.PluginName, af.f.CompileRoute, func(r *azure.Route) pluginStream { return azureStream{r.NewStream()} })
}

// azureStream adapts the Azure Functions logic: it rewrites request headers
// only, so neither body is buffered, and the response passes through.
type azureStream struct{ *azure.Stream }

func (azureStream) RequestNeedsBody() bool  { return false }
func (azureStream) ResponseNeedsBody() bool { return false }

// MaxBody is never used: nothing is buffered.
func (azureStream) MaxBody() int { return 0 }

func (azureStream) setMaxBody(int) {}

func (s azureStream) function() (functionKey, bool) {
	upstream, fn := s.Function()
	return functionKey{upstream: upstream, function: fn, kind: "azure"}, fn != ""
}

func (s azureStream) onRequest(h *requestHeaders, _ []byte) ([]byte, bool, *pluginLocalReply) {
	if lr := s.OnRequest(h); lr != nil {
		return nil, false, &pluginLocalReply{status: lr.Status, body: lr.Body}
	}
	return nil, false, nil
}

func (s azureStream) onResponse(h *responseHeaders, _ []byte) ([]byte, bool, *pluginLocalReply) {
	// Plugins get no logger of their own; the default one is the process's.
	if w := s.OnResponse(h); w != "" {
		slog.Warn(w)
	}
	return nil, false, nil
}
