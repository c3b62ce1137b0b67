package grpc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/interop"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/reflection"
	v1alphagrpc "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/gluon-gateway/gluon/fds"
	"github.com/gluon-gateway/gluon/functions"
)

// serve starts grpc-go's interop TestService and health service, with
// reflection as register says (nil: none).
func serve(t *testing.T, register func(*grpc.Server)) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(s, interop.NewTestServer())
	healthpb.RegisterHealthServer(s, health.NewServer())
	if register != nil {
		register(s)
	}
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// interopSet is the descriptor set protoc would write for the interop
// TestService and health service, imports included.
func interopSet(t *testing.T) []byte {
	t.Helper()
	set, err := IncludeImports(testgrpc.File_grpc_testing_test_proto, healthpb.File_grpc_health_v1_health_proto)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func names(d functions.Discovered) string {
	var out []string
	for _, f := range d.Functions {
		out = append(out, f.Name)
	}
	return strings.Join(out, " ")
}

func TestDiscoverByReflectionAndDescriptorSet(t *testing.T) {
	ctx := context.Background()
	v1 := serve(t, func(s *grpc.Server) { reflection.Register(s) })
	got, err := NewFinder(Target{Addr: v1}).Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Every service of the files that define the listed ones, as from a
	// descriptor set: test.proto defines more than the server registers.
	want := "grpc.health.v1.Health.Check grpc.health.v1.Health.List grpc.health.v1.Health.Watch grpc.testing.HookService.ClearReturnStatus grpc.testing.HookService.Hook grpc.testing.HookService.SetReturnStatus grpc.testing.LoadBalancerStatsService.GetClientAccumulatedStats grpc.testing.LoadBalancerStatsService.GetClientStats grpc.testing.ReconnectService.Start grpc.testing.ReconnectService.Stop grpc.testing.TestService.CacheableUnaryCall grpc.testing.TestService.EmptyCall grpc.testing.TestService.FullDuplexCall grpc.testing.TestService.HalfDuplexCall grpc.testing.TestService.StreamingInputCall grpc.testing.TestService.StreamingOutputCall grpc.testing.TestService.UnaryCall grpc.testing.TestService.UnimplementedCall grpc.testing.UnimplementedService.UnimplementedCall grpc.testing.XdsUpdateClientConfigureService.Configure grpc.testing.XdsUpdateHealthService.SendHookRequest grpc.testing.XdsUpdateHealthService.SetNotServing grpc.testing.XdsUpdateHealthService.SetServing"
	if names(got) != want {
		t.Fatalf("functions by reflection:\n got %s\nwant %s", names(got), want)
	}
	f, _ := got.Find("grpc.testing.TestService.StreamingOutputCall")
	if g := f.GRPC; f.Kind != functions.KindGRPC || g.Service != "grpc.testing.TestService" || g.Method != "StreamingOutputCall" ||
		g.InputType != "grpc.testing.StreamingOutputCallRequest" || g.OutputType != "grpc.testing.StreamingOutputCallResponse" || !g.ServerStreaming || g.ClientStreaming {
		t.Fatalf("StreamingOutputCall: %+v", f.GRPC)
	}
	if _, err := ParseSet(got.GRPCDescriptors, Limits{}); err != nil {
		t.Fatalf("the descriptors found do not parse: %v", err)
	}

	v1alpha := serve(t, func(s *grpc.Server) {
		v1alphagrpc.RegisterServerReflectionServer(s, reflection.NewServer(reflection.ServerOptions{Services: s}))
	})
	alpha, err := NewFinder(Target{Addr: v1alpha}).Discover(ctx)
	if err != nil || names(alpha) != want {
		t.Fatalf("v1alpha reflection: %v\n%s", err, names(alpha))
	}

	bare := serve(t, nil)
	if _, err := NewFinder(Target{Addr: bare}).Discover(ctx); !errors.Is(err, fds.ErrNotMine) {
		t.Fatalf("a server without reflection: %v, want not mine", err)
	}
	fromSet, err := NewFinder(Target{Addr: bare, Descriptor: interopSet(t)}).Discover(ctx)
	if err != nil || names(fromSet) != want {
		t.Fatalf("the same server from a descriptor set: %v\n%s", err, names(fromSet))
	}
}

func TestDiscoverRefusals(t *testing.T) {
	ctx := context.Background()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("hello")) }))
	defer web.Close()
	_, err := NewFinder(Target{Addr: web.Listener.Addr().String()}).Discover(ctx)
	if !errors.Is(err, fds.ErrNotMine) || !strings.Contains(err.Error(), "not a gRPC server") {
		t.Fatalf("an HTTP/1.1 server: %v, want not mine", err)
	}
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	down := lis.Addr().String()
	lis.Close()
	if _, err := NewFinder(Target{Addr: down}).Discover(ctx); !fds.IsTransient(err) {
		t.Fatalf("nobody listening: %v, want transient", err)
	}
	if _, err := NewFinder(Target{Descriptor: []byte("not a descriptor set")}).Discover(ctx); !errors.Is(err, ErrBadDescriptor) {
		t.Fatalf("garbage: %v, want a bad descriptor", err)
	}
	// A set whose file imports one it does not hold.
	lone := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{Name: proto.String("a.proto"), Dependency: []string{"missing.proto"}}}}
	raw, _ := proto.Marshal(lone)
	if _, err := NewFinder(Target{Descriptor: raw}).Discover(ctx); !errors.Is(err, ErrBadDescriptor) || !strings.Contains(err.Error(), "missing.proto") {
		t.Fatalf("an unresolved import: %v", err)
	}
	if _, err := NewFinder(Target{Descriptor: interopSet(t), Limits: Limits{MaxBytes: 100}}).Discover(ctx); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("past the size limit: %v", err)
	}
	v1 := serve(t, func(s *grpc.Server) { reflection.Register(s) })
	if _, err := NewFinder(Target{Addr: v1, Limits: Limits{MaxFiles: 1}}).Discover(ctx); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("reflection past the file limit: %v", err)
	}
}

// FuzzParseSet: no descriptor set, however hostile, panics the parser.
func FuzzParseSet(f *testing.F) {
	lone := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{Name: proto.String("a.proto"), Package: proto.String("a"),
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("M")}},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("S"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("Call"), InputType: proto.String(".a.M"), OutputType: proto.String(".a.M")}}}}}}}
	raw, _ := proto.Marshal(lone)
	f.Add(raw)
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := ParseSet(b, Limits{})
		if err != nil {
			return
		}
		if _, err := discovered(set, "fuzz"); err != nil {
			t.Fatalf("a set that parsed does not list: %v", err)
		}
	})
}
