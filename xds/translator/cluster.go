package translator

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	httpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

var discoveryTypes = map[ir.Discovery]clusterv3.Cluster_DiscoveryType{
	ir.DiscoveryEDS:       clusterv3.Cluster_EDS,
	ir.DiscoveryStrictDNS: clusterv3.Cluster_STRICT_DNS,
	ir.DiscoveryStatic:    clusterv3.Cluster_STATIC,
}

// cluster builds a cluster (round robin unless the load-balancing feature
// says otherwise); EDS clusters get their endpoints
// from a separate ClusterLoadAssignment, the others inline them.
func cluster(c *ir.Cluster) (*clusterv3.Cluster, error) {
	out := &clusterv3.Cluster{
		Name:                 c.Name,
		ConnectTimeout:       durationpb.New(c.ConnectTimeout.D()),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: discoveryTypes[c.Discovery]},
		LbPolicy:             clusterv3.Cluster_ROUND_ROBIN,
	}
	if c.Discovery == ir.DiscoveryEDS {
		out.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsSource()}
	} else {
		out.LoadAssignment = loadAssignment(c)
	}
	if c.Discovery == ir.DiscoveryStrictDNS {
		out.DnsLookupFamily = clusterv3.Cluster_V4_PREFERRED
	}
	if c.TLS != nil {
		ts, err := upstreamTLS(c.TLS)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
		}
		out.TransportSocket = ts
	}
	if c.HTTP2 {
		opts, err := packAny(http2Options)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
		}
		out.TypedExtensionProtocolOptions = map[string]*anypb.Any{httpProtocolOptions: opts}
	}
	return out, nil
}

// httpProtocolOptions is the key of a cluster's HTTP protocol options.
const httpProtocolOptions = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// http2Options make a cluster speak HTTP/2 to its endpoints.
var http2Options = &httpv3.HttpProtocolOptions{UpstreamProtocolOptions: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_{
	ExplicitHttpConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig{
		ProtocolConfig: &httpv3.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}}},
}}
