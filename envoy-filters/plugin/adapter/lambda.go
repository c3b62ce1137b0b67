package adapter

import (
	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/envoy-filters/lambda"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/lambdawire"
)

// LambdaParser parses the listener config (credentials) and route configs;
// Merge resolves a route's credentials from its listener.
type LambdaParser struct{}

type lambdaRouteJSON struct{ json []byte }

// Parse implements api.StreamFilterConfigParser.
func (LambdaParser) Parse(cfg *anypb.Any, _ api.ConfigCallbackHandler) (interface{}, error) {
	typeURL, js, err := typedStructJSON(cfg)
	if err != nil {
		return nil, err
	}
	switch typeURL {
	case lambdawire.ListenerType:
		return lambda.NewFilter(js)
	case lambdawire.RouteType:
		return &lambdaRouteJSON{json: js}, nil
	}
	return nil, unknownType(lambda.PluginName, typeURL)
}

// Merge implements api.StreamFilterConfigParser.
func (LambdaParser) Merge(parent, child interface{}) interface{} {
	f, ok := parent.(*lambda.Filter)
	rc, isRoute := child.(*lambdaRouteJSON)
	if !ok || !isRoute {
		return (*lambda.Route)(nil)
	}
	route, err := f.CompileRoute(rc.json)
	if err != nil {
		logErrorf("%s: %v", lambda.PluginName, err)
		return (*lambda.Route)(nil)
	}
	return route
}

// LambdaFactory implements api.StreamFilterFactory.
func LambdaFactory(config interface{}, callbacks api.FilterCallbackHandler) api.StreamFilter {
	route, _ := config.(*lambda.Route)
	return &lambdaFilter{callbacks: callbacks, stream: route.NewStream()}
}

// lambdaFilter buffers the request (its body is signed) and the response
// (it may be unwrapped or explained), and hands both to the Lambda logic.
type lambdaFilter struct {
	api.PassThroughStreamFilter
	callbacks  api.FilterCallbackHandler
	stream     *lambda.Stream
	reqHeaders api.RequestHeaderMap
	resHeaders api.ResponseHeaderMap
}

func (f *lambdaFilter) DecodeHeaders(h api.RequestHeaderMap, endStream bool) api.StatusType {
	if !f.stream.Active() {
		return api.Continue
	}
	// The downstream address as Envoy determined it: the peer, or the
	// trusted X-Forwarded-For hop.
	info := f.callbacks.StreamInfo()
	proto, _ := info.Protocol()
	f.stream.SetClient(lambda.Client{Address: info.DownstreamRemoteAddress(), Protocol: proto})
	if !endStream {
		f.reqHeaders = h
		return api.StopAndBuffer
	}
	payload, reply := f.stream.OnRequest(h, nil)
	if reply != nil {
		return f.reply(f.callbacks.DecoderFilterCallbacks(), reply)
	}
	// A request without a body gets one: the Invoke payload.
	f.callbacks.DecoderFilterCallbacks().AddData(payload, true)
	return api.Continue
}

func (f *lambdaFilter) DecodeData(buf api.BufferInstance, endStream bool) api.StatusType {
	if f.reqHeaders == nil {
		return api.Continue
	}
	if !endStream {
		return api.StopAndBuffer
	}
	payload, reply := f.stream.OnRequest(f.reqHeaders, buf.Bytes())
	if reply == nil {
		if err := buf.Set(payload); err != nil {
			return f.reply(f.callbacks.DecoderFilterCallbacks(), &lambda.LocalReply{Status: 500, Body: err.Error()})
		}
		return api.Continue
	}
	return f.reply(f.callbacks.DecoderFilterCallbacks(), reply)
}

func (f *lambdaFilter) EncodeHeaders(h api.ResponseHeaderMap, endStream bool) api.StatusType {
	if !f.stream.Active() {
		return api.Continue
	}
	if !endStream {
		f.resHeaders = h
		return api.StopAndBuffer
	}
	_, _, reply := f.stream.OnResponse(h, nil)
	if reply != nil {
		return f.reply(f.callbacks.EncoderFilterCallbacks(), reply)
	}
	return api.Continue
}

func (f *lambdaFilter) EncodeData(buf api.BufferInstance, endStream bool) api.StatusType {
	if f.resHeaders == nil {
		return api.Continue
	}
	if !endStream {
		return api.StopAndBuffer
	}
	body, changed, reply := f.stream.OnResponse(f.resHeaders, buf.Bytes())
	if reply != nil {
		return f.reply(f.callbacks.EncoderFilterCallbacks(), reply)
	}
	if changed {
		if err := buf.Set(body); err != nil {
			return f.reply(f.callbacks.EncoderFilterCallbacks(), &lambda.LocalReply{Status: 500, Body: err.Error()})
		}
	}
	return api.Continue
}

// localReplier is what both decoder and encoder callbacks offer.
type localReplier interface {
	SendLocalReply(responseCode int, bodyText string, headers map[string][]string, grpcStatus int64, details string)
}

func (f *lambdaFilter) reply(cb localReplier, r *lambda.LocalReply) api.StatusType {
	if r.Detail != "" {
		logWarnf("%s: %s", lambda.PluginName, r.Detail)
	}
	headers := map[string][]string{"content-type": {"text/plain"}}
	for k, v := range r.Headers {
		headers[k] = []string{v}
	}
	cb.SendLocalReply(r.Status, r.Body, headers, -1, "gluon_aws_lambda")
	return api.LocalReply
}
