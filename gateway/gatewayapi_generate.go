package gateway

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// defaultBindAddress is where generated gateways listen unless Options say
// otherwise: every IPv4 address. "::" would need IPv6, which containers
// often lack.
const defaultBindAddress = "0.0.0.0"

// matchOrigin is the HTTPRoute match a generated route comes from.
type matchOrigin struct {
	route       *routeState
	rule, match int
}

func (o matchOrigin) String() string {
	return fmt.Sprintf("HTTPRoute %s rule %d match %d", o.route.key, o.rule, o.match)
}

// generate builds, for each served Gateway, a Gluon Gateway per listener
// port: with a VirtualService per hostname served on an HTTP(S) port, or
// the TCP hosts of a TLS passthrough or TCP port.
func (c *gatewayAPI) generate() {
	for _, g := range c.gateways {
		for _, port := range g.ports() {
			gw := &api.Gateway{Spec: api.GatewaySpec{
				BindAddress: c.bindAddress,
				BindPort:    uint32(port),
				ProxyNames:  []string{GatewayAPIProxyName(g.key)},
			}}
			gw.Name, gw.Namespace, gw.Labels = fmt.Sprintf("gatewayapi-%s-%d", g.key.Name, port), g.key.Namespace, generatedLabels(generatedFromGateway)
			if g.streamPort(port) {
				if gw.Spec.TCPGateway = c.tcpGateway(g, port); len(gw.Spec.TCPGateway.TCPHosts) == 0 {
					continue // no route to forward to yet: nothing to listen for
				}
			} else {
				gw.Spec.SSL, gw.Spec.HTTPGateway = g.httpsPort(port), &api.HTTPGateway{}
				for _, host := range g.hostnames(port) {
					vs := c.virtualService(g, port, host)
					gw.Spec.HTTPGateway.VirtualServices = append(gw.Spec.HTTPGateway.VirtualServices, api.ResourceRef{Name: vs.Name, Namespace: vs.Namespace})
				}
			}
			c.gen.gateways = append(c.gen.gateways, gw)
			c.gen.gatewayPorts[api.ResourceRef{Name: gw.Name, Namespace: gw.Namespace}] = servedPort{gateway: g, port: port}
		}
	}
}

// hostnames are those served on a port: its listeners' and those routes
// attached under. Each listener hostname gets a virtual host even without
// routes, so that its requests never reach a less specific listener's
// routes.
func (g *servedGateway) hostnames(port gwv1.PortNumber) []string {
	var out []string
	for _, l := range g.listeners {
		if l.serves() && l.spec.Port == port {
			out = append(out, l.hostname)
		}
	}
	for _, a := range g.attachments[port] {
		out = append(out, a.hostname)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// owner is the listener a request for host belongs to: the most specific
// listener on the port whose hostname matches it.
func (g *servedGateway) owner(port gwv1.PortNumber, host string) *servedListener {
	var best *servedListener
	for _, l := range g.listeners {
		if !l.serves() || l.spec.Port != port || !hostnameCovers(l.hostname, host) {
			continue
		}
		if best == nil || rankHostname(l.hostname).before(rankHostname(best.hostname)) {
			best = l
		}
	}
	return best
}

// hostEntry is a match of a route attached to the virtual host, under a
// hostname that covers it.
type hostEntry struct {
	hostname hostnameRank
	origin   matchOrigin
	match    *translatedMatch
}

// virtualService builds the virtual host of a hostname: the matches of the
// routes attached to its listener under that hostname or one covering it,
// in the Gateway API's precedence order.
func (c *gatewayAPI) virtualService(g *servedGateway, port gwv1.PortNumber, host string) *api.VirtualService {
	owner := g.owner(port, host)
	var entries []hostEntry
	for _, a := range g.attachments[port] {
		if a.listener != owner || !hostnameCovers(a.hostname, host) {
			continue
		}
		for i := range a.route.rules {
			for j := range a.route.rules[i].matches {
				m := &a.route.rules[i].matches[j]
				entries = append(entries, hostEntry{rankHostname(a.hostname), matchOrigin{a.route, i, m.index}, m})
			}
		}
	}
	sortEntries(entries)
	vs := &api.VirtualService{Spec: api.VirtualServiceSpec{VirtualHost: api.VirtualHost{Domains: []string{host}}}}
	if g.httpsPort(port) {
		vs.Spec.SSLConfig = sslConfig(owner, host)
	}
	vs.Name = fmt.Sprintf("gatewayapi-%s-%d-%s", g.key.Name, port, strings.ReplaceAll(host, "*", "_"))
	vs.Namespace, vs.Labels = g.key.Namespace, generatedLabels(generatedFromHTTPRoute)
	var origins []matchOrigin
	seen := map[matchOrigin]bool{}
	for _, e := range entries {
		if seen[e.origin] {
			continue // attached under a more specific hostname too
		}
		seen[e.origin] = true
		for _, r := range e.match.routes {
			vs.Spec.VirtualHost.Routes = append(vs.Spec.VirtualHost.Routes, r)
			origins = append(origins, e.origin)
		}
	}
	c.withJWTProviders(vs)
	c.gen.virtualServices = append(c.gen.virtualServices, vs)
	c.gen.vsOrigins[api.ResourceRef{Name: vs.Name, Namespace: vs.Namespace}] = origins
	return vs
}

// sortEntries orders matches by hostname, then by match, then by route
// (oldest first), then as the route lists them.
func sortEntries(entries []hostEntry) {
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.hostname != b.hostname {
			return a.hostname.before(b.hostname)
		}
		if c := a.match.rank.compare(b.match.rank); c != 0 {
			return c < 0
		}
		if a.origin.route != b.origin.route {
			return olderOrFirst(a.origin.route.meta, b.origin.route.meta)
		}
		if a.origin.rule != b.origin.rule {
			return a.origin.rule < b.origin.rule
		}
		return a.origin.match < b.origin.match
	})
}
