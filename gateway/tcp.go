package gateway

import (
	"fmt"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// tcpHosts are a tcp gateway's forwarding rules; a host whose upstreams
// are unknown is left out, and the gateway warned.
func (t *translation) tcpHosts(g *api.Gateway) []*ir.TCPHost {
	var out []*ir.TCPHost
	for i, h := range g.Spec.TCPGateway.TCPHosts {
		host := &ir.TCPHost{Name: h.Name}
		if h.SSLConfig != nil {
			host.ServerNames = h.SSLConfig.SniDomains
		}
		dests := h.Destination.Multi
		if h.Destination.Single != nil {
			dests = &api.MultiDestination{Destinations: []api.WeightedDestination{{Destination: *h.Destination.Single, Weight: 1}}}
		}
		var missing error
		for _, d := range dests.Destinations {
			ref := d.Destination.Upstream.Ref(g.Namespace)
			u, ok := t.upstreams[ref]
			if !ok {
				missing = fmt.Errorf("upstream %s not found", ref)
				break
			}
			host.Destinations = append(host.Destinations, ir.Destination{Cluster: u.cluster, Weight: d.Weight})
		}
		if missing != nil {
			t.reports.Warn(api.KeyOf(g), api.Problem{Code: api.UpstreamNotFound, Path: fmt.Sprintf("spec.tcpGateway.tcpHosts[%d].destination", i),
				Message: fmt.Sprintf("tcp host %s is not served: %v", h.Name, missing)})
			continue
		}
		out = append(out, host)
	}
	return out
}
