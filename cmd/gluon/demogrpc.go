package main

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// demoGreeterProto is the demo's gRPC service, helloworld.Greeter:
//
//	message HelloRequest { string name = 1; }
//	message HelloReply { string message = 1; }
//	service Greeter {
//	  rpc SayHello(HelloRequest) returns (HelloReply);
//	  rpc SayHelloStream(HelloRequest) returns (stream HelloReply);
//	}
func demoGreeterProto() *descriptorpb.FileDescriptorProto {
	str := func(name string) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(1), JsonName: proto.String(name),
			Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
	}
	method := func(name string, stream bool) *descriptorpb.MethodDescriptorProto {
		return &descriptorpb.MethodDescriptorProto{Name: proto.String(name), InputType: proto.String(".helloworld.HelloRequest"),
			OutputType: proto.String(".helloworld.HelloReply"), ServerStreaming: proto.Bool(stream)}
	}
	return &descriptorpb.FileDescriptorProto{
		Name: proto.String("helloworld.proto"), Package: proto.String("helloworld"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("HelloRequest"), Field: []*descriptorpb.FieldDescriptorProto{str("name")}},
			{Name: proto.String("HelloReply"), Field: []*descriptorpb.FieldDescriptorProto{str("message")}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Greeter"),
			Method: []*descriptorpb.MethodDescriptorProto{method("SayHello", false), method("SayHelloStream", true)}}},
	}
}

// startDemoGreeter serves helloworld.Greeter with server reflection and
// the health service, for Gluon to discover and transcode.
func startDemoGreeter() (*grpc.Server, string, error) {
	fd, err := protodesc.NewFile(demoGreeterProto(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("demo greeter: %w", err)
	}
	files := &protoregistry.Files{}
	if err := files.RegisterFile(fd); err != nil {
		return nil, "", fmt.Errorf("demo greeter: %w", err)
	}
	svc := fd.Services().Get(0)
	req, reply := svc.Methods().Get(0).Input(), svc.Methods().Get(0).Output()
	greet := func(in *dynamicpb.Message, suffix string) *dynamicpb.Message {
		out := dynamicpb.NewMessage(reply)
		name := in.Get(req.Fields().ByName("name")).String()
		out.Set(reply.Fields().ByName("message"), protoreflect.ValueOfString("Hello, "+name+suffix))
		return out
	}
	s := grpc.NewServer()
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: string(svc.FullName()), HandlerType: (*any)(nil), Metadata: fd.Path(),
		Methods: []grpc.MethodDesc{{MethodName: "SayHello", Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := dynamicpb.NewMessage(req)
			if err := dec(in); err != nil {
				return nil, err
			}
			return greet(in, ""), nil
		}}},
		Streams: []grpc.StreamDesc{{StreamName: "SayHelloStream", ServerStreams: true, Handler: func(_ any, stream grpc.ServerStream) error {
			in := dynamicpb.NewMessage(req)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			for i := 1; i <= 3; i++ {
				if err := stream.SendMsg(greet(in, fmt.Sprintf(" (%d of 3)", i))); err != nil {
					return err
				}
			}
			return nil
		}}},
	}, struct{}{})
	healthpb.RegisterHealthServer(s, health.NewServer())
	reflectionpb.RegisterServerReflectionServer(s, reflection.NewServerV1(reflection.ServerOptions{Services: s, DescriptorResolver: demoResolver{files}}))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("demo greeter: %w", err)
	}
	go s.Serve(lis) //nolint:errcheck // ends when stopped
	return s, lis.Addr().String(), nil
}

// demoResolver finds the greeter's file, and the health service's (and
// the well-known files) in the global registry.
type demoResolver struct{ own *protoregistry.Files }

func (r demoResolver) FindFileByPath(path string) (protoreflect.FileDescriptor, error) {
	if fd, err := r.own.FindFileByPath(path); err == nil {
		return fd, nil
	}
	return protoregistry.GlobalFiles.FindFileByPath(path)
}

func (r demoResolver) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	if d, err := r.own.FindDescriptorByName(name); err == nil {
		return d, nil
	}
	return protoregistry.GlobalFiles.FindDescriptorByName(name)
}
