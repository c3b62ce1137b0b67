// Package adapter runs Gluon's filter logic as Envoy golang filter plugins:
// it turns Envoy's api callbacks, header maps and buffers into the calls the
// filter packages make natively in the embedded data plane.
package adapter

import (
	"errors"
	"fmt"
	"sync"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/envoy-filters/transformation"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/transformationwire"
)

// logErrorf logs through Envoy; tests, which run outside Envoy (where the
// api's logging has no C side), replace it.
var logErrorf = api.LogErrorf

// TransformationParser parses the listener config (into a *listenerConfig)
// and route configs (into a *routeSpec); Merge compiles a route's spec with
// its listener's engine.
type TransformationParser struct{}

type listenerConfig struct {
	filter *transformation.Filter
	mu     sync.Mutex
	routes map[string]*transformation.Route // compiled, by spec JSON
}

type routeSpec struct{ json []byte }

// merged is what the factory receives.
type merged struct{ route *transformation.Route }

// Parse implements api.StreamFilterConfigParser.
func (TransformationParser) Parse(cfg *anypb.Any, _ api.ConfigCallbackHandler) (interface{}, error) {
	typeURL, js, err := typedStructJSON(cfg)
	if err != nil {
		return nil, err
	}
	switch typeURL {
	case transformationwire.ListenerType:
		f, err := transformation.NewFilter(js)
		if err != nil {
			return nil, err
		}
		return &listenerConfig{filter: f, routes: map[string]*transformation.Route{}}, nil
	case transformationwire.RouteType:
		// Compile now, with default bounds, so a bad spec rejects the
		// config; Merge compiles again with the listener's engine.
		f, _ := transformation.NewFilter(nil) // an empty config always parses
		if _, err := f.CompileRoute(js); err != nil {
			return nil, err
		}
		return &routeSpec{json: js}, nil
	}
	return nil, unknownType(transformation.PluginName, typeURL)
}

func unknownType(plugin, typeURL string) error {
	return fmt.Errorf("%s: unknown config type %q", plugin, typeURL)
}

// Merge implements api.StreamFilterConfigParser.
func (TransformationParser) Merge(parent, child interface{}) interface{} {
	l, ok := parent.(*listenerConfig)
	if !ok {
		return child
	}
	spec, ok := child.(*routeSpec)
	if !ok {
		return &merged{}
	}
	route, err := l.compile(spec.json)
	if err != nil {
		logErrorf("%s: %v", transformation.PluginName, err) // Parse accepted it; only the bounds differ
		return &merged{}
	}
	return &merged{route: route}
}

func (l *listenerConfig) compile(js []byte) (*transformation.Route, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.routes[string(js)]; ok {
		return r, nil
	}
	r, err := l.filter.CompileRoute(js)
	if err == nil {
		l.routes[string(js)] = r
	}
	return r, err
}

func typedStructJSON(cfg *anypb.Any) (string, []byte, error) {
	if cfg == nil {
		return "", nil, errors.New(transformation.PluginName + ": no config")
	}
	var ts xdstypev3.TypedStruct
	if err := cfg.UnmarshalTo(&ts); err != nil {
		return "", nil, fmt.Errorf("%s: config is not a TypedStruct: %w", transformation.PluginName, err)
	}
	js, err := protojson.Marshal(ts.GetValue())
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", transformation.PluginName, err)
	}
	return ts.GetTypeUrl(), js, nil
}

// TransformationFactory implements api.StreamFilterFactory.
func TransformationFactory(config interface{}, callbacks api.FilterCallbackHandler) api.StreamFilter {
	var route *transformation.Route
	if m, ok := config.(*merged); ok {
		route = m.route
	}
	return &transformationFilter{callbacks: callbacks, stream: route.NewStream()}
}

// transformationFilter runs one request through the transformation logic.
type transformationFilter struct {
	api.PassThroughStreamFilter
	callbacks  api.FilterCallbackHandler
	stream     *transformation.Stream
	reqHeaders api.RequestHeaderMap
	resHeaders api.ResponseHeaderMap
}

func (f *transformationFilter) DecodeHeaders(h api.RequestHeaderMap, endStream bool) api.StatusType {
	if f.stream.RequestNeedsBody() && !endStream {
		f.reqHeaders = h
		return api.StopAndBuffer
	}
	_, _, reply := f.stream.OnRequest(h, nil)
	return f.decodeReply(reply)
}

func (f *transformationFilter) DecodeData(buf api.BufferInstance, endStream bool) api.StatusType {
	if f.reqHeaders == nil {
		return api.Continue
	}
	if !endStream {
		if buf.Len() > f.stream.MaxBody() {
			return f.decodeReply(transformation.TooLarge(f.stream.MaxBody()))
		}
		return api.StopAndBuffer
	}
	body, changed, reply := f.stream.OnRequest(f.reqHeaders, buf.Bytes())
	if reply == nil && changed {
		if err := buf.Set(body); err != nil {
			reply = &transformation.LocalReply{Status: 500, Body: err.Error()}
		}
	}
	return f.decodeReply(reply)
}

func (f *transformationFilter) EncodeHeaders(h api.ResponseHeaderMap, endStream bool) api.StatusType {
	if f.stream.ResponseNeedsBody() && !endStream {
		f.resHeaders = h
		return api.StopAndBuffer
	}
	_, _, reply := f.stream.OnResponse(h, nil)
	return f.encodeReply(reply)
}

func (f *transformationFilter) EncodeData(buf api.BufferInstance, endStream bool) api.StatusType {
	if f.resHeaders == nil {
		return api.Continue
	}
	if !endStream {
		if buf.Len() > f.stream.MaxBody() {
			return f.encodeReply(transformation.TooLarge(f.stream.MaxBody()))
		}
		return api.StopAndBuffer
	}
	body, changed, reply := f.stream.OnResponse(f.resHeaders, buf.Bytes())
	if reply == nil && changed {
		if err := buf.Set(body); err != nil {
			reply = &transformation.LocalReply{Status: 500, Body: err.Error()}
		}
	}
	return f.encodeReply(reply)
}

func (f *transformationFilter) decodeReply(r *transformation.LocalReply) api.StatusType {
	if r == nil {
		return api.Continue
	}
	f.callbacks.DecoderFilterCallbacks().SendLocalReply(r.Status, r.Body, map[string][]string{"content-type": {"text/plain"}}, -1, "gluon_transformation_failed")
	return api.LocalReply
}

func (f *transformationFilter) encodeReply(r *transformation.LocalReply) api.StatusType {
	if r == nil {
		return api.Continue
	}
	f.callbacks.EncoderFilterCallbacks().SendLocalReply(r.Status, r.Body, map[string][]string{"content-type": {"text/plain"}}, -1, "gluon_transformation_failed")
	return api.LocalReply
}
