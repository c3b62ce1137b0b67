package adapter

import (
	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/envoy-filters/azure"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/azurewire"
)

// logWarnf logs through Envoy; tests replace it, as logErrorf.
var logWarnf = api.LogWarnf

// AzureParser parses the listener config (keys, AAD app registrations) and
// route configs; Merge resolves a route's secrets from its listener.
type AzureParser struct{}

type azureRouteJSON struct{ json []byte }

// Parse implements api.StreamFilterConfigParser.
func (AzureParser) Parse(cfg *anypb.Any, _ api.ConfigCallbackHandler) (interface{}, error) {
	typeURL, js, err := typedStructJSON(cfg)
	if err != nil {
		return nil, err
	}
	switch typeURL {
	case azurewire.ListenerType:
		return azure.NewFilter(js)
	case azurewire.RouteType:
		return &azureRouteJSON{json: js}, nil
	}
	return nil, unknownType(azure.PluginName, typeURL)
}

// Merge implements api.StreamFilterConfigParser.
func (AzureParser) Merge(parent, child interface{}) interface{} {
	f, ok := parent.(*azure.Filter)
	rc, isRoute := child.(*azureRouteJSON)
	if !ok || !isRoute {
		return (*azure.Route)(nil)
	}
	route, err := f.CompileRoute(rc.json)
	if err != nil {
		logErrorf("%s: %v", azure.PluginName, err)
		return (*azure.Route)(nil)
	}
	return route
}

// AzureFactory implements api.StreamFilterFactory.
func AzureFactory(config interface{}, callbacks api.FilterCallbackHandler) api.StreamFilter {
	route, _ := config.(*azure.Route)
	return &azureFilter{callbacks: callbacks, stream: route.NewStream()}
}

// azureFilter rewrites the request headers; it buffers neither body.
type azureFilter struct {
	api.PassThroughStreamFilter
	callbacks api.FilterCallbackHandler
	stream    *azure.Stream
}

func (f *azureFilter) DecodeHeaders(h api.RequestHeaderMap, _ bool) api.StatusType {
	if !f.stream.Active() {
		return api.Continue
	}
	if r := f.stream.OnRequest(h); r != nil {
		f.callbacks.DecoderFilterCallbacks().SendLocalReply(r.Status, r.Body, map[string][]string{"content-type": {"text/plain"}}, -1, "gluon_azure_functions")
		return api.LocalReply
	}
	return api.Continue
}

func (f *azureFilter) EncodeHeaders(h api.ResponseHeaderMap, _ bool) api.StatusType {
	if f.stream.Active() {
		if w := f.stream.OnResponse(h); w != "" {
			logWarnf("%s", w)
		}
	}
	return api.Continue
}
