package translator

import (
	"fmt"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	transcoderv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// grpcTranscoderFilter is Envoy's JSON ↔ gRPC transcoder.
const grpcTranscoderFilter = "envoy.filters.http.grpc_json_transcoder"

// grpcFeature lets a gRPC request's grpc-timeout set its route timeout
// (max_stream_duration.grpc_timeout_header_max), and transcodes JSON to
// gRPC on routes that call gRPC methods: the transcoder runs after the
// request transformation (which rewrites a function call's path) and is
// off but on the routes that configure it.
var grpcFeature = feature{
	name: "grpc",
	filters: func(_ *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		if !anyRoute(l, func(r *ir.Route) bool { return r.GRPC != nil }) {
			return nil, nil
		}
		// The listener-level config must name a descriptor set: an empty one.
		empty := &transcoderv3.GrpcJsonTranscoder{DescriptorSet: &transcoderv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: []byte{}}}
		return []httpFilter{{stage: StageOutAuth, name: grpcTranscoderFilter, disabled: true, config: empty}}, nil
	},
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) (err error) {
		action := out.GetRoute()
		if action == nil || r.Forward == nil {
			return nil
		}
		if r.Forward.GRPCTimeoutHeaderMax != nil {
			action.MaxStreamDuration = &routev3.RouteAction_MaxStreamDuration{GrpcTimeoutHeaderMax: optDuration(r.Forward.GRPCTimeoutHeaderMax)}
		}
		if r.GRPC == nil {
			return nil
		}
		cfg, err := grpcTranscoder(r.GRPC)
		if err != nil {
			return err
		}
		out.TypedPerFilterConfig, err = withPackedConfig(out.TypedPerFilterConfig, grpcTranscoderFilter, cfg)
		return err
	},
}

// grpcTranscoder is a route's transcoder config: its descriptors with its
// bindings added as HTTP rules, gRPC errors answered as JSON statuses, and
// the route kept as matched (the transcoder rewrites the path).
func grpcTranscoder(g *ir.GRPCTranscode) (*transcoderv3.GrpcJsonTranscoder, error) {
	descriptors, err := withBindings(g.Descriptors, g.Bindings)
	if err != nil {
		return nil, err
	}
	return &transcoderv3.GrpcJsonTranscoder{
		DescriptorSet:             &transcoderv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: descriptors},
		Services:                  g.Services,
		MatchIncomingRequestRoute: true,
		ConvertGrpcStatus:         true,
		// A function call's parameters come form-encoded ("+" a space),
		// and a query parameter no field takes is passed over.
		QueryParamUnescapePlus:       true,
		IgnoreUnknownQueryParameters: true,
		PrintOptions:                 &transcoderv3.GrpcJsonTranscoder_PrintOptions{StreamNewlineDelimited: g.StreamNewlineDelimited},
	}, nil
}

// withBindings adds each binding to its method's google.api.http rule: as
// the rule when it has none, else as one more of its additional bindings.
func withBindings(raw []byte, bindings []ir.GRPCBinding) ([]byte, error) {
	if len(bindings) == 0 {
		return raw, nil
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(raw, set); err != nil {
		return nil, fmt.Errorf("grpc descriptors: %w", err)
	}
	for _, b := range bindings {
		m := findMethod(set, b.Method)
		if m == nil {
			return nil, fmt.Errorf("grpc binding: method %s is not in the descriptors", b.Method)
		}
		if m.Options == nil {
			m.Options = &descriptorpb.MethodOptions{}
		}
		rule := &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: b.Path}, Body: "*"}
		if existing, ok := proto.GetExtension(m.Options, annotations.E_Http).(*annotations.HttpRule); ok && existing != nil && existing.GetPattern() != nil {
			existing.AdditionalBindings = append(existing.AdditionalBindings, rule)
			rule = existing
		}
		proto.SetExtension(m.Options, annotations.E_Http, rule)
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(set)
}

// findMethod finds a method by its full name in a descriptor set.
func findMethod(set *descriptorpb.FileDescriptorSet, full string) *descriptorpb.MethodDescriptorProto {
	for _, f := range set.File {
		for _, s := range f.Service {
			prefix := s.GetName() + "."
			if f.GetPackage() != "" {
				prefix = f.GetPackage() + "." + prefix
			}
			for _, m := range s.Method {
				if prefix+m.GetName() == full {
					return m
				}
			}
		}
	}
	return nil
}
