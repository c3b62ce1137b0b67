package server

import (
	"context"
	"net"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// fullResources is a listener, its route configuration, an EDS cluster
// and its endpoints: the endpoint's port and the route's prefix vary.
func fullResources(t *testing.T, port uint32, prefix string) map[string][]types.Resource {
	ads := &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
	hcm, err := anypb.New(&hcmv3.HttpConnectionManager{StatPrefix: "l", RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{
		Rds: &hcmv3.Rds{RouteConfigName: "r", ConfigSource: ads}}})
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]types.Resource{
		resourcev3.ListenerType: {&listenerv3.Listener{Name: "l", FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm}}}}}}},
		resourcev3.RouteType: {&routev3.RouteConfiguration{Name: "r", VirtualHosts: []*routev3.VirtualHost{{Name: "v", Domains: []string{"*"},
			Routes: []*routev3.Route{{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "a"}}}}}}}}},
		resourcev3.ClusterType: {&clusterv3.Cluster{Name: "a", ConnectTimeout: durationpb.New(time.Second),
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
			EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads}}},
		resourcev3.EndpointType: {&endpointv3.ClusterLoadAssignment{ClusterName: "a", Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}}}}}}}}},
	}
}

// TestSotWClientsGetOnlyTheTypesThatChanged: one version for all types
// re-sent listeners, routes and clusters on every endpoint change.
func TestSotWClientsGetOnlyTheTypesThatChanged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := New("", quiet())
	set := func(port uint32, prefix string) Snapshot {
		if _, err := s.Set(ctx, "edge", fullResources(t, port, prefix)); err != nil {
			t.Fatal(err)
		}
		return s.Snapshots()[0]
	}
	first := set(1, "/")
	stream := adsStream(ctx, t, s)
	node := &corev3.Node{Id: "n1", Cluster: "edge"}
	names := map[string][]string{resourcev3.EndpointType: {"a"}, resourcev3.RouteType: {"r"}}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType} {
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typ, ResourceNames: names[typ]}); err != nil {
			t.Fatal(err)
		}
	}
	responses := make(chan *discoveryv3.DiscoveryResponse, 16)
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				return
			}
			responses <- resp
		}
	}()
	// receive ACKs what arrives until quiet, and returns the types sent.
	receive := func() map[string]string {
		got := map[string]string{}
		for {
			select {
			case resp := <-responses:
				got[resp.GetTypeUrl()] = resp.GetVersionInfo()
				err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: resp.GetTypeUrl(), ResourceNames: names[resp.GetTypeUrl()],
					VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce()})
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(300 * time.Millisecond):
				return got
			}
		}
	}
	if got := receive(); len(got) != 4 {
		t.Fatalf("the first subscription got %v, want all four types", got)
	}

	endpointsMoved := set(2, "/")
	if got := receive(); len(got) != 1 || got[resourcev3.EndpointType] != endpointsMoved.Versions[resourcev3.EndpointType] {
		t.Errorf("an endpoint-only change sent %v, want only ClusterLoadAssignments", got)
	}
	routeChanged := set(2, "/other")
	if got := receive(); len(got) != 1 || got[resourcev3.RouteType] == "" {
		t.Errorf("a route-only change sent %v, want only RouteConfigurations", got)
	}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType} {
		if first.Versions[typ] != routeChanged.Versions[typ] {
			t.Errorf("%s version went from %s to %s with no change of its own", typ, first.Versions[typ], routeChanged.Versions[typ])
		}
	}
	if first.Version == endpointsMoved.Version || endpointsMoved.Version == routeChanged.Version {
		t.Error("the overall version did not follow the changes")
	}
}

func adsStream(ctx context.Context, t *testing.T, s *Server) discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	s.Register(ctx, g)
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return stream
}
