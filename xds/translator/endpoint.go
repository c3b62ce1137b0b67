package translator

import (
	"fmt"
	"net"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// lbEndpointParts are the messages of one endpoint but its address,
// allocated as one (see socketAddressParts).
type lbEndpointParts struct {
	lbEndpoint endpointv3.LbEndpoint
	oneof      endpointv3.LbEndpoint_Endpoint
	endpoint   endpointv3.Endpoint
	weight     wrapperspb.UInt32Value
}

// LoadAssignment is an EDS cluster's endpoints as Envoy takes them,
// validated: all that an endpoint change alone needs built again.
func LoadAssignment(c *ir.Cluster) (*endpointv3.ClusterLoadAssignment, error) {
	cla := loadAssignment(c)
	if err := cla.ValidateAll(); err != nil {
		return nil, fmt.Errorf("endpoints: %w", err)
	}
	return cla, nil
}

func loadAssignment(c *ir.Cluster) *endpointv3.ClusterLoadAssignment {
	locality := &endpointv3.LocalityLbEndpoints{LbEndpoints: make([]*endpointv3.LbEndpoint, len(c.Endpoints))}
	parts := make([]lbEndpointParts, len(c.Endpoints))
	for i, e := range c.Endpoints {
		p := &parts[i]
		p.weight.Value = e.Weight
		p.endpoint.Address, p.endpoint.Hostname = socketAddress(e.Host, e.Port), hostname(e.Host)
		p.oneof.Endpoint = &p.endpoint
		p.lbEndpoint.HostIdentifier, p.lbEndpoint.LoadBalancingWeight = &p.oneof, &p.weight
		locality.LbEndpoints[i] = &p.lbEndpoint
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
