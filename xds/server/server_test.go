package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func clusterResources(name string) map[string][]types.Resource {
	return map[string][]types.Resource{
		resourcev3.ClusterType: {&clusterv3.Cluster{
			Name:                 name,
			ConnectTimeout:       durationpb.New(time.Second),
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		}},
		resourcev3.ListenerType: {},
	}
}

func TestVersionIsContentHash(t *testing.T) {
	s := New("", quiet())
	ctx := context.Background()
	v1, err := s.Set(ctx, "p", clusterResources("a"))
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := s.Set(ctx, "p", clusterResources("a"))
	v3, _ := s.Set(ctx, "p", clusterResources("b"))
	if v1 != v2 || v1 == v3 {
		t.Fatalf("versions: same input %s/%s, other input %s", v1, v2, v3)
	}
}

func TestInconsistentSnapshotIsRefused(t *testing.T) {
	s := New("", quiet())
	ctx := context.Background()
	good, _ := s.Set(ctx, "p", clusterResources("a"))
	// An EDS cluster with no ClusterLoadAssignment is not consistent.
	bad := map[string][]types.Resource{resourcev3.ClusterType: {&clusterv3.Cluster{
		Name: "eds", ConnectTimeout: durationpb.New(time.Second),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}},
	}}}
	if _, err := s.Set(ctx, "p", bad); err == nil {
		t.Fatal("inconsistent snapshot accepted")
	}
	if got := s.Snapshots()[0].Version; got != good {
		t.Fatalf("serving %s, want the last good %s", got, good)
	}
}

func TestRestore(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	v, err := New(dir, quiet()).Set(ctx, "edge", clusterResources("a"))
	if err != nil {
		t.Fatal(err)
	}
	s := New(dir, quiet())
	restored, err := s.Restore(ctx)
	if err != nil || len(restored) != 1 || restored[0] != "edge" {
		t.Fatalf("restored %v, %v", restored, err)
	}
	snap := s.Snapshots()[0]
	if snap.Version != v || !snap.Restored {
		t.Fatalf("restored %+v, want version %s", snap, v)
	}
	if name := snap.Resources[resourcev3.ClusterType][0].(*clusterv3.Cluster).GetName(); name != "a" {
		t.Fatalf("restored cluster %q", name)
	}
}

func TestProxyOf(t *testing.T) {
	role, _ := structpb.NewStruct(map[string]any{"role": "gluon-system~edge"})
	cases := map[string]*corev3.Node{
		"edge":    {Id: "n", Cluster: "c", Metadata: role},
		"c":       {Id: "n", Cluster: "c"},
		"n":       {Id: "n"},
		"":        nil,
		"plain":   {Metadata: mustStruct(map[string]any{"role": "plain"})},
		"cluster": {Cluster: "cluster", Metadata: mustStruct(map[string]any{"other": "x"})},
	}
	for want, node := range cases {
		if got := ProxyOf(node); got != want {
			t.Errorf("ProxyOf(%v) = %q, want %q", node, got, want)
		}
	}
}

func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s
}

// TestADS fetches over both SotW and delta streams from a real gRPC server.
func TestADS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := New("", quiet())
	if _, err := s.Set(ctx, "edge", clusterResources("a")); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	s.Register(ctx, g)
	go g.Serve(lis)
	defer g.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	node := &corev3.Node{Id: "n1", Cluster: "edge"}

	sotw, err := ads.StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := sotw.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	resp, err := sotw.Recv()
	if err != nil || len(resp.GetResources()) != 1 {
		t.Fatalf("SotW: %v, %v", resp, err)
	}
	// ACK, then check the server recorded it.
	if err := sotw.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType, VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		cl := s.Clients()
		return len(cl) == 1 && cl[0].Types[resourcev3.ClusterType].AckedVersion == resp.GetVersionInfo()
	})

	delta, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := delta.Send(&discoveryv3.DeltaDiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	dresp, err := delta.Recv()
	if err != nil || len(dresp.GetResources()) != 1 || dresp.GetResources()[0].GetName() != "a" {
		t.Fatalf("delta: %v, %v", dresp, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
