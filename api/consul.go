package api

import (
	"slices"
	"sort"
)

// ConsulUpstream is a service of Consul's catalog (Gloo's `consul`
// upstream): its instances whose health checks pass are the endpoints.
type ConsulUpstream struct {
	ServiceName string `json:"serviceName"`
	// ServiceTags keep the instances that carry every tag listed.
	ServiceTags []string `json:"serviceTags,omitempty"`
	// DataCenters are where instances are taken from; none: every
	// datacenter discovery watches.
	DataCenters []string `json:"dataCenters,omitempty"`
	// ServiceSpec says where the service's functions are described; by
	// default an instance is probed for an OpenAPI document.
	ServiceSpec *ServiceSpec `json:"serviceSpec,omitempty"`
}

// ConsulService is one service of one Consul datacenter as upstream
// discovery found it: its instances that pass their health checks.
type ConsulService struct {
	Datacenter string `json:"datacenter"`
	Name       string `json:"name"`
	// Tags are every tag of the service's instances.
	Tags      []string         `json:"tags,omitempty"`
	Instances []ConsulInstance `json:"instances,omitempty"`
}

// ConsulInstance is one healthy instance of a service.
type ConsulInstance struct {
	Address string   `json:"address"`
	Port    uint32   `json:"port"`
	Tags    []string `json:"tags,omitempty"`
}

// ConsulUpstreamPrefix starts the name of every Upstream discovered in
// Consul: "consul-<service>".
const ConsulUpstreamPrefix = "consul-"

// ConsulEndpoints are the healthy instances a consul upstream takes: of
// its service, in its datacenters, with its tags; sorted.
func (r *Resources) ConsulEndpoints(c *ConsulUpstream) []EndpointAddress {
	var out []EndpointAddress
	first := sort.Search(len(r.ConsulServices), func(i int) bool { return r.ConsulServices[i].Name >= c.ServiceName })
	for _, s := range r.ConsulServices[first:] {
		if s.Name != c.ServiceName {
			break
		}
		if len(c.DataCenters) > 0 && !slices.Contains(c.DataCenters, s.Datacenter) {
			continue
		}
		for _, in := range s.Instances {
			if hasAllTags(in.Tags, c.ServiceTags) {
				out = append(out, EndpointAddress{IP: in.Address, Port: in.Port})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].IP < out[j].IP || out[i].IP == out[j].IP && out[i].Port < out[j].Port
	})
	return out
}

func hasAllTags(have, want []string) bool {
	for _, t := range want {
		if !slices.Contains(have, t) {
			return false
		}
	}
	return true
}
