package dataplane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	ratelimitcommon "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
)

// grpcChannel is a cluster's gRPC client connection. It is kept for as long
// as the cluster definition (the upstreamCluster) and its endpoint
// addresses are unchanged, so calls reuse one HTTP/2 connection per endpoint.
type grpcChannel struct {
	mu    sync.Mutex
	set   *endpointSet // the endpoints conn was made for
	addrs []string
	conn  *grpc.ClientConn
}

// roundRobin spreads calls over the cluster's endpoints like its own LB policy.
const roundRobin = `{"loadBalancingConfig":[{"round_robin":{}}]}`

// grpcConn returns the connection to the cluster's current endpoints. An
// EDS update that changes the addresses replaces it; the old one closes
// once calls in flight had time to finish.
func (c *upstreamCluster) grpcConn() (*grpc.ClientConn, error) {
	if !c.h2 {
		return nil, fmt.Errorf("cluster %q is not HTTP/2 (gRPC needs explicit_http_config http2_protocol_options)", c.name)
	}
	set := c.endpoints.Load()
	ch := &c.grpc
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.conn != nil && ch.set == set {
		return ch.conn, nil
	}
	var addrs []string
	if set != nil {
		for _, ep := range set.eps {
			addrs = append(addrs, ep.addr)
		}
	}
	if ch.conn != nil && slices.Equal(ch.addrs, addrs) {
		ch.set = set
		return ch.conn, nil
	}
	if len(addrs) == 0 {
		return nil, errors.New(msgNoHealthyUpstream)
	}
	conn, err := c.dialGRPC(addrs)
	if err != nil {
		return nil, err
	}
	if old := ch.conn; old != nil {
		time.AfterFunc(retireGrace, func() { _ = old.Close() })
	}
	ch.set, ch.addrs, ch.conn = set, addrs, conn
	return conn, nil
}

func (c *upstreamCluster) dialGRPC(addrs []string) (*grpc.ClientConn, error) {
	r := manual.NewBuilderWithScheme("gluon-cluster")
	state := resolver.State{}
	for _, a := range addrs {
		state.Addresses = append(state.Addresses, resolver.Address{Addr: a})
	}
	r.InitialState(state)
	creds := insecure.NewCredentials()
	if c.tls != nil {
		creds = credentials.NewTLS(c.tls)
	}
	conn, err := grpc.NewClient(r.Scheme()+":///"+c.name,
		grpc.WithResolvers(r),
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultServiceConfig(roundRobin),
		// A restarted service must be found again within about a second:
		// gRPC's default back-off grows to two minutes.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: c.connectTimeout,
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: grpc client: %w", c.name, err)
	}
	return conn, nil
}

func (ch *grpcChannel) close() {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.conn != nil {
		_ = ch.conn.Close()
		ch.conn, ch.set, ch.addrs = nil, nil, nil
	}
}

// shouldRateLimit asks the rate limit service behind cl about descriptors,
// within timeout. hits_addend is left unset (one hit), as Envoy sends it
// unless a filter state says otherwise.
func shouldRateLimit(ctx context.Context, cl *upstreamCluster, timeout time.Duration, domain string, descs [][]descriptorEntry) (*rlsv3.RateLimitResponse, error) {
	if cl == nil {
		return nil, errors.New("rate limit service cluster not found")
	}
	conn, err := cl.grpcConn()
	if err != nil {
		return nil, err
	}
	req := &rlsv3.RateLimitRequest{Domain: domain, Descriptors: make([]*ratelimitcommon.RateLimitDescriptor, len(descs))}
	for i, d := range descs {
		rd := &ratelimitcommon.RateLimitDescriptor{Entries: make([]*ratelimitcommon.RateLimitDescriptor_Entry, len(d))}
		for j, e := range d {
			rd.Entries[j] = &ratelimitcommon.RateLimitDescriptor_Entry{Key: e.key, Value: e.value}
		}
		req.Descriptors[i] = rd
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := rlsv3.NewRateLimitServiceClient(conn).ShouldRateLimit(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: ShouldRateLimit: %w", cl.name, err)
	}
	return resp, nil
}
