package gateway

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/gluon-gateway/gluon/functions"
)

// greeterDiscovered is what reflection finds on the golden cases' gRPC
// upstream: helloworld.Greeter, with a unary and a server-streaming method.
func greeterDiscovered() functions.Discovered {
	str := &descriptorpb.FieldDescriptorProto{Name: proto.String("name"), Number: proto.Int32(1), JsonName: proto.String("name"),
		Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
	method := func(name string, stream bool) *descriptorpb.MethodDescriptorProto {
		return &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(".helloworld.HelloRequest"),
			OutputType: proto.String(".helloworld.HelloRequest"), ServerStreaming: proto.Bool(stream)}
	}
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{
		Name: proto.String("helloworld.proto"), Package: proto.String("helloworld"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("HelloRequest"), Field: []*descriptorpb.FieldDescriptorProto{str}}},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Greeter"),
			Method: []*descriptorpb.MethodDescriptorProto{method("SayHello", false), method("SayHelloStream", true)}}},
	}}}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err != nil {
		panic(err)
	}
	ref := functions.UpstreamRef{Namespace: "default", Name: "greeter"}
	fn := func(method string, stream bool) functions.Function {
		return functions.Function{Name: "helloworld.Greeter." + method, Kind: functions.KindGRPC, GRPC: &functions.GRPCFunction{
			Service: "helloworld.Greeter", Method: method, InputType: "helloworld.HelloRequest", OutputType: "helloworld.HelloRequest", ServerStreaming: stream}}
	}
	return functions.Discovered{Upstream: ref, Functions: []functions.Function{fn("SayHello", false), fn("SayHelloStream", true)},
		Source: "grpc reflection 127.0.0.1:50051", GRPCDescriptors: raw}
}
