package translator

import (
	"net"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

func loadAssignment(c *ir.Cluster) *endpointv3.ClusterLoadAssignment {
	locality := &endpointv3.LocalityLbEndpoints{}
	for _, e := range c.Endpoints {
		locality.LbEndpoints = append(locality.LbEndpoints, &endpointv3.LbEndpoint{
			HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address:  socketAddress(e.Host, e.Port),
				Hostname: hostname(e.Host),
			}},
			LoadBalancingWeight: wrapperspb.UInt32(e.Weight),
		})
	}
	return &endpointv3.ClusterLoadAssignment{ClusterName: c.Name, Endpoints: []*endpointv3.LocalityLbEndpoints{locality}}
}

// hostname is what auto host rewrite puts in Host: DNS names only, as an IP
// address says nothing about the virtual host the upstream expects.
func hostname(host string) string {
	if net.ParseIP(host) != nil {
		return ""
	}
	return host
}
