package grpc

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// reflectionMethods are server reflection's stream, v1 first. v1alpha's
// messages are v1's under another package name, so v1's types serve both.
var reflectionMethods = []string{
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
}

// errNoReflection is a gRPC server that implements neither version.
var errNoReflection = errors.New("the server does not implement gRPC server reflection (v1 or v1alpha); give the upstream a descriptor set (serviceSpec.grpc)")

// reflect reads every service the server lists and the files that define
// them and theirs imports, within limits.
func reflect(ctx context.Context, conn *grpc.ClientConn, l Limits) (*descriptorpb.FileDescriptorSet, error) {
	for _, method := range reflectionMethods {
		set, err := reflectWith(ctx, conn, method, l)
		if status.Code(err) == codes.Unimplemented {
			continue
		}
		return set, err
	}
	return nil, errNoReflection
}

// reflectWith holds one reflection conversation over method.
func reflectWith(ctx context.Context, conn *grpc.ClientConn, method string, l Limits) (*descriptorpb.FileDescriptorSet, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, method)
	if err != nil {
		return nil, err
	}
	r := &reflector{stream: stream, limits: l, files: map[string]*descriptorpb.FileDescriptorProto{}}
	services, err := r.listServices()
	if err != nil {
		return nil, err
	}
	for _, svc := range services {
		if isReflectionService(svc) {
			continue
		}
		if err := r.fetch(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: svc}}); err != nil {
			return nil, fmt.Errorf("service %s: %w", svc, err)
		}
	}
	if err := r.fetchImports(); err != nil {
		return nil, err
	}
	return complete(r.files)
}

// reflector is one reflection stream and the files it has received.
type reflector struct {
	stream grpc.ClientStream
	limits Limits
	files  map[string]*descriptorpb.FileDescriptorProto
	bytes  int
}

func (r *reflector) ask(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
	if err := r.stream.SendMsg(req); err != nil {
		return nil, r.streamErr(err)
	}
	resp := &rpb.ServerReflectionResponse{}
	if err := r.stream.RecvMsg(resp); err != nil {
		return nil, r.streamErr(err)
	}
	if e := resp.GetErrorResponse(); e != nil {
		return nil, status.Error(codes.Code(e.GetErrorCode()), e.GetErrorMessage())
	}
	return resp, nil
}

// streamErr is the stream's status when a send or receive ends it.
func (r *reflector) streamErr(err error) error {
	if errors.Is(err, io.EOF) {
		if rerr := r.stream.RecvMsg(&rpb.ServerReflectionResponse{}); rerr != nil && !errors.Is(rerr, io.EOF) {
			return rerr
		}
	}
	return err
}

func (r *reflector) listServices() ([]string, error) {
	resp, err := r.ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{}})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		out = append(out, s.GetName())
	}
	return out, nil
}

// fetch asks for a file (and, as servers send them, its imports) and
// keeps every file in the answer.
func (r *reflector) fetch(req *rpb.ServerReflectionRequest) error {
	resp, err := r.ask(req)
	if err != nil {
		return err
	}
	for _, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
		if err := r.keep(raw); err != nil {
			return err
		}
	}
	return nil
}

func (r *reflector) keep(raw []byte) error {
	r.bytes += len(raw)
	if r.bytes > r.limits.maxBytes() {
		return fmt.Errorf("%w: the server's descriptors exceed %d bytes", ErrTooLarge, r.limits.maxBytes())
	}
	fd := &descriptorpb.FileDescriptorProto{}
	if err := proto.Unmarshal(raw, fd); err != nil {
		return fmt.Errorf("a file descriptor does not parse: %w", err)
	}
	if _, ok := r.files[fd.GetName()]; !ok && len(r.files) >= r.limits.maxFiles() {
		return fmt.Errorf("%w: the server's services need more than %d files", ErrTooLarge, r.limits.maxFiles())
	}
	r.files[fd.GetName()] = fd
	return nil
}

// fetchImports asks for every imported file the server has not sent yet.
func (r *reflector) fetchImports() error {
	for {
		missing := missingImports(r.files)
		if len(missing) == 0 {
			return nil
		}
		for _, name := range missing {
			if err := r.fetch(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: name}}); err != nil {
				return fmt.Errorf("imported file %s: %w", name, err)
			}
			if _, ok := r.files[name]; !ok {
				return fmt.Errorf("imported file %s: the server did not send it", name)
			}
		}
	}
}

func isReflectionService(name string) bool {
	return name == "grpc.reflection.v1.ServerReflection" || name == "grpc.reflection.v1alpha.ServerReflection"
}
