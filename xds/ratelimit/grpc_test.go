package ratelimit

import (
	"context"
	"net"
	"testing"
	"time"

	rlspb "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/gluon-gateway/gluon/xds/ratelimit/redistest"
)

// serve runs s on a loopback gRPC server and returns a generated client.
func serve(t *testing.T, s *Service) rlspb.RateLimitServiceClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	s.Register(g)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return rlspb.NewRateLimitServiceClient(conn)
}

func TestGRPCRoundTrip(t *testing.T) {
	srv := redistest.Start(t)
	s := newService(t, Redis(srv.Addr, 0), newClock(), apiConfig)
	t.Cleanup(func() { _ = s.Close() })
	client := serve(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r := request("api", desc("user", "alice"), desc("nothing", "x"))
	var last *rlspb.RateLimitResponse
	for range 3 {
		resp, err := client.ShouldRateLimit(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		last = resp
	}
	if last.OverallCode != OVER || last.Statuses[0].Code != OVER || last.Statuses[0].CurrentLimit.GetRequestsPerUnit() != 2 ||
		last.Statuses[1].Code != OK || last.Statuses[1].CurrentLimit != nil {
		t.Fatalf("3rd call over gRPC: %v", last)
	}

	// Errors reach Envoy as gRPC codes, so its failure mode applies.
	if _, err := client.ShouldRateLimit(ctx, request("")); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("empty request: %v, want InvalidArgument", err)
	}
	srv.Stop()
	if _, err := client.ShouldRateLimit(ctx, r); status.Code(err) != codes.Unavailable {
		t.Fatalf("Redis down: %v, want Unavailable", err)
	}
}
