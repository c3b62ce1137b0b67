// Package xdsclient is the benchmarks' ADS client, state of the world or
// delta (incremental): it records when each endpoint of each cluster
// first arrived.
package xdsclient

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"
)

// Client is an ADS client (state of the world) that records, for each
// response, when it arrived: the push latency is measured to the response,
// not to when the benchmark next looks.
type Client struct {
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	// delta, when set, is the stream instead: each response carries the
	// resources that changed, as Envoy's delta ADS asks.
	delta  discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	node   *corev3.Node
	sendMu sync.Mutex // a gRPC stream's Send is not safe for concurrent use

	mu sync.Mutex
	// Clusters is how many clusters the last CDS response held;
	// Endpoints, for each cluster, when each "ip:port" was first seen.
	// Read them in WaitUntil's condition, which holds the lock.
	Clusters  int
	Endpoints map[string]map[string]time.Time
	updated   chan struct{}
}

// Dial opens an ADS stream to addr as a node of proxy, subscribed to
// clusters.
func Dial(ctx context.Context, addr, nodeID, proxy string) (*Client, error) {
	ads, err := adsClient(addr)
	if err != nil {
		return nil, err
	}
	stream, err := ads.StreamAggregatedResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("ADS stream: %w", err)
	}
	x := newClient(nodeID, proxy)
	x.stream = stream
	if err := x.send(resourcev3.ClusterType, "", "", nil); err != nil {
		return nil, err
	}
	go x.receive()
	return x, nil
}

func adsClient(addr string) (discoveryv3.AggregatedDiscoveryServiceClient, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return discoveryv3.NewAggregatedDiscoveryServiceClient(conn), nil
}

func newClient(nodeID, proxy string) *Client {
	return &Client{node: &corev3.Node{Id: nodeID, Cluster: proxy}, Endpoints: map[string]map[string]time.Time{}, updated: make(chan struct{}, 1)}
}

// DialDelta opens a delta ADS stream to addr as a node of proxy,
// subscribed to every cluster and its endpoints.
func DialDelta(ctx context.Context, addr, nodeID, proxy string) (*Client, error) {
	ads, err := adsClient(addr)
	if err != nil {
		return nil, err
	}
	stream, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		return nil, fmt.Errorf("delta ADS stream: %w", err)
	}
	x := newClient(nodeID, proxy)
	x.delta = stream
	for _, typeURL := range []string{resourcev3.ClusterType, resourcev3.EndpointType} {
		if err := x.sendDelta(typeURL, ""); err != nil {
			return nil, err
		}
	}
	go x.receiveDelta()
	return x, nil
}

// sendDelta subscribes to every resource of typeURL (nonce empty), or
// acknowledges a response.
func (x *Client) sendDelta(typeURL, nonce string) error {
	x.sendMu.Lock()
	defer x.sendMu.Unlock()
	req := &discoveryv3.DeltaDiscoveryRequest{Node: x.node, TypeUrl: typeURL, ResponseNonce: nonce}
	if nonce == "" {
		req.ResourceNamesSubscribe = []string{"*"}
	}
	return x.delta.Send(req)
}

func (x *Client) receiveDelta() {
	clusters := map[string]bool{}
	for {
		resp, err := x.delta.Recv()
		if err != nil {
			return
		}
		at := time.Now()
		x.mu.Lock()
		switch resp.TypeUrl {
		case resourcev3.ClusterType:
			for _, r := range resp.Resources {
				clusters[r.Name] = true
			}
			for _, name := range resp.RemovedResources {
				delete(clusters, name)
			}
			x.Clusters = len(clusters)
		case resourcev3.EndpointType:
			for _, r := range resp.Resources {
				x.recordEndpoint(r.Resource, at)
			}
		}
		x.mu.Unlock()
		if err := x.sendDelta(resp.TypeUrl, resp.Nonce); err != nil {
			return
		}
		x.notify()
	}
}

func (x *Client) notify() {
	select {
	case x.updated <- struct{}{}:
	default:
	}
}

func (x *Client) send(typeURL, version, nonce string, names []string) error {
	x.sendMu.Lock()
	defer x.sendMu.Unlock()
	return x.stream.Send(&discoveryv3.DiscoveryRequest{Node: x.node, TypeUrl: typeURL, VersionInfo: version, ResponseNonce: nonce, ResourceNames: names})
}

// SubscribeEDS asks for every cluster's endpoints: a wildcard request, as
// go-control-plane's snapshot cache in ADS mode answers a named request only
// when it names every ClusterLoadAssignment (so versions are never partial).
func (x *Client) SubscribeEDS() error {
	return x.send(resourcev3.EndpointType, "", "", nil)
}

func (x *Client) receive() {
	for {
		resp, err := x.stream.Recv()
		if err != nil {
			return
		}
		at := time.Now()
		if os.Getenv("XDS_DEBUG") != "" {
			log.Printf("xds: %s version %s, %d resources", resp.TypeUrl, resp.VersionInfo, len(resp.Resources))
		}
		x.mu.Lock()
		switch resp.TypeUrl {
		case resourcev3.ClusterType:
			x.Clusters = len(resp.Resources)
		case resourcev3.EndpointType:
			x.recordEndpoints(resp, at)
		}
		x.mu.Unlock()
		if err := x.send(resp.TypeUrl, resp.VersionInfo, resp.Nonce, nil); err != nil {
			return
		}
		x.notify()
	}
}

func (x *Client) recordEndpoints(resp *discoveryv3.DiscoveryResponse, at time.Time) {
	for _, r := range resp.Resources {
		x.recordEndpoint(r, at)
	}
}

// recordEndpoint notes when each endpoint of a ClusterLoadAssignment was
// first seen.
func (x *Client) recordEndpoint(r *anypb.Any, at time.Time) {
	var cla endpointv3.ClusterLoadAssignment
	if err := r.UnmarshalTo(&cla); err != nil {
		return
	}
	seen := x.Endpoints[cla.ClusterName]
	if seen == nil {
		seen = map[string]time.Time{}
		x.Endpoints[cla.ClusterName] = seen
	}
	for _, le := range cla.Endpoints {
		for _, lb := range le.LbEndpoints {
			sa := lb.GetEndpoint().GetAddress().GetSocketAddress()
			key := net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue())))
			if _, ok := seen[key]; !ok {
				seen[key] = at
			}
		}
	}
}

// WaitUntil calls cond (under the lock) after every response until it
// holds or ctx ends.
func (x *Client) WaitUntil(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.After(timeout)
	for {
		x.mu.Lock()
		ok := cond()
		x.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-x.updated:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			return fmt.Errorf("timed out after %s", timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// FirstSeen waits until endpoint ("ip:port") of cluster has arrived and
// returns when it first did.
func (x *Client) FirstSeen(ctx context.Context, cluster, endpoint string, timeout time.Duration) (time.Time, error) {
	var at time.Time
	err := x.WaitUntil(ctx, timeout, func() bool {
		at = x.Endpoints[cluster][endpoint]
		return !at.IsZero()
	})
	return at, err
}
