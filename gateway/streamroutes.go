package gateway

import (
	"fmt"
	"slices"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// streamRoute is a TLSRoute or TCPRoute as conversion reads it.
type streamRoute struct {
	kind      gwv1.Kind
	meta      *metav1.ObjectMeta
	parents   []gwv1.ParentReference
	hostnames []gwv1.Hostname
	backends  []gwv1.BackendRef
}

func (c *gatewayAPI) streamRoutes() []streamRoute {
	var out []streamRoute
	for _, r := range c.in.TLSRoutes {
		sr := streamRoute{kind: tlsRouteKind.Kind, meta: &r.ObjectMeta, parents: r.Spec.ParentRefs, hostnames: r.Spec.Hostnames}
		for _, rule := range r.Spec.Rules {
			sr.backends = append(sr.backends, rule.BackendRefs...)
		}
		out = append(out, sr)
	}
	for _, r := range c.in.TCPRoutes {
		sr := streamRoute{kind: tcpRouteKind.Kind, meta: &r.ObjectMeta, parents: r.Spec.ParentRefs}
		for _, rule := range r.Spec.Rules {
			sr.backends = append(sr.backends, rule.BackendRefs...)
		}
		out = append(out, sr)
	}
	sort.SliceStable(out, func(i, j int) bool { return olderOrFirst(out[i].meta, out[j].meta) })
	return out
}

// attachStreamRoutes resolves the backends of TLSRoutes and TCPRoutes and
// attaches them to the listeners of their kind.
func (c *gatewayAPI) attachStreamRoutes(byKey map[types.NamespacedName]*servedGateway) {
	for _, sr := range c.streamRoutes() {
		if !servesAny(sr.meta.Namespace, sr.parents, byKey) {
			continue
		}
		rs := &routeState{kind: sr.kind, meta: sr.meta, key: types.NamespacedName{Namespace: sr.meta.Namespace, Name: sr.meta.Name}, hostnames: sr.hostnames}
		for _, b := range sr.backends {
			if b.Weight != nil && *b.Weight == 0 {
				continue
			}
			ref, ok := c.resolveBackend(rs, b.BackendObjectReference)
			if !ok {
				continue
			}
			w := uint32(1)
			if b.Weight != nil {
				w = uint32(*b.Weight)
			}
			rs.dests = append(rs.dests, api.WeightedDestination{Destination: api.Destination{Upstream: &ref}, Weight: w})
		}
		if len(rs.dests) == 0 && len(rs.refProblems) == 0 {
			rs.refProblems = append(rs.refProblems, routeProblem{gwv1.RouteReasonBackendNotFound, "no backend takes connections"})
		}
		c.attachParents(rs, sr.parents, byKey)
	}
}

// takenNote says why an attachment forwards nothing: an older route has
// its server name, or the TCP port.
func takenNote(a attachment, owner *routeState) string {
	if a.listener.allows(tcpRouteKind.Kind) {
		return fmt.Sprintf("listener %s forwards to the oldest route attached, %s", a.listener.spec.Name, owner.key)
	}
	return fmt.Sprintf("hostname %s on listener %s is %s's, an older route", a.hostname, a.listener.spec.Name, owner.key)
}

// streamPort reports whether a port's served listeners forward connections.
func (g *servedGateway) streamPort(port gwv1.PortNumber) bool {
	l := g.servedOn(port)
	return l != nil && l.stream()
}

// tcpGateway is the generated gateway of a TLS passthrough or TCP port: a
// host per route, chosen by the route's hostnames as SNI on a TLS listener
// (a server name goes to the oldest route that has it), the only one of a
// TCP listener (the oldest route attached to it).
func (c *gatewayAPI) tcpGateway(g *servedGateway, port gwv1.PortNumber) *api.TCPGateway {
	out := &api.TCPGateway{}
	hosts := map[*routeState]*api.TCPHost{}
	var order []*routeState
	taken := map[string]*routeState{} // server name ("" for none) → its route
	for _, a := range g.attachments[port] {
		rs := a.route
		if len(rs.dests) == 0 {
			continue
		}
		sni := a.hostname
		if a.listener.allows(tcpRouteKind.Kind) || sni == "*" {
			sni = ""
		}
		if owner, ok := taken[sni]; ok {
			if owner != rs {
				rs.notes = append(rs.notes, takenNote(a, owner))
			}
			continue
		}
		taken[sni] = rs
		h := hosts[rs]
		if h == nil {
			h = &api.TCPHost{Name: fmt.Sprintf("%s-%s", rs.key.Namespace, rs.key.Name),
				Destination: api.RouteAction{Multi: &api.MultiDestination{Destinations: rs.dests}}}
			hosts[rs] = h
			order = append(order, rs)
		}
		if sni != "" {
			if h.SSLConfig == nil {
				h.SSLConfig = &api.TCPSSLConfig{}
			}
			h.SSLConfig.SniDomains = append(h.SSLConfig.SniDomains, sni)
		}
	}
	for _, rs := range order {
		h := hosts[rs]
		if h.SSLConfig != nil {
			slices.Sort(h.SSLConfig.SniDomains)
		}
		out.TCPHosts = append(out.TCPHosts, *h)
	}
	return out
}
