package gateway

import (
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// servedGateway is a Gateway of one of Gluon's classes.
type servedGateway struct {
	gw        *gwv1.Gateway
	key       types.NamespacedName
	listeners []*servedListener // in spec order, as status lists them
	// attachments are the routes attached to each port, under each of
	// their effective hostnames.
	attachments map[gwv1.PortNumber][]attachment
	attached    map[attachment]bool
}

// servedListener is one listener of a served Gateway.
type servedListener struct {
	spec *gwv1.Listener
	// hostname is the listener's hostname, "*" when it has none.
	hostname string
	// kinds are the route kinds the listener takes; invalidKinds those of
	// its allowedRoutes.kinds Gluon does not serve.
	kinds        []gwv1.RouteGroupKind
	invalidKinds []string
	unsupported  bool // a protocol Gluon does not serve
	conflicted   bool // another HTTP listener has the same port and hostname
	// https listeners terminate TLS with cert, the Secret their
	// certificateRefs name; certProblem says why that reference fails.
	https            bool
	protocolConflict bool
	cert             *api.ResourceRef
	certReason       gwv1.ListenerConditionReason
	certProblem      string
	routes           map[types.NamespacedName]bool
	// portProblem says why the port's generated Gateway was rejected.
	portProblem string
}

// attachment is a route attached to a listener under one hostname.
type attachment struct {
	listener *servedListener
	hostname string
	route    *routeState
}

// serves reports whether the listener is translated: routes attach only to
// those.
func (l *servedListener) serves() bool { return !l.unsupported && !l.conflicted && l.certProblem == "" }

// acceptClasses finds the GatewayClasses Gluon is the controller of; the
// others are some other controller's business.
func (c *gatewayAPI) acceptClasses() {
	for _, gc := range c.in.GatewayClasses {
		if gc.Spec.ControllerName == api.GatewayControllerName {
			c.classes[gc.Name] = gc
		}
	}
}

// acceptGateways finds the Gateways of Gluon's classes and checks their
// listeners.
func (c *gatewayAPI) acceptGateways() {
	for _, gw := range c.in.Gateways {
		if c.classes[string(gw.Spec.GatewayClassName)] == nil {
			continue
		}
		sg := &servedGateway{
			gw:          gw,
			key:         types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name},
			attachments: map[gwv1.PortNumber][]attachment{},
			attached:    map[attachment]bool{},
		}
		for i := range gw.Spec.Listeners {
			sg.listeners = append(sg.listeners, newServedListener(&gw.Spec.Listeners[i]))
		}
		markConflicts(sg.listeners)
		c.gateways = append(c.gateways, sg)
	}
	sort.Slice(c.gateways, func(i, j int) bool {
		a, b := c.gateways[i].key, c.gateways[j].key
		return a.Namespace < b.Namespace || (a.Namespace == b.Namespace && a.Name < b.Name)
	})
}

func newServedListener(l *gwv1.Listener) *servedListener {
	sl := &servedListener{spec: l, hostname: "*", routes: map[types.NamespacedName]bool{}}
	if l.Hostname != nil && *l.Hostname != "" {
		sl.hostname = string(*l.Hostname)
	}
	kinds, ok := listenerRouteKinds(l)
	if !ok {
		sl.unsupported = true
		return sl
	}
	sl.https = l.Protocol == gwv1.HTTPSProtocolType
	sl.kinds, sl.invalidKinds = routeKinds(l.AllowedRoutes, kinds)
	return sl
}

// listenerRouteKinds are the route kinds a listener serves: HTTPRoutes and
// GRPCRoutes on HTTP and HTTPS (TLS terminated), TLSRoutes on TLS passed
// through, TCPRoutes on TCP; ok is false for the rest.
func listenerRouteKinds(l *gwv1.Listener) ([]gwv1.RouteGroupKind, bool) {
	passthrough := l.TLS != nil && l.TLS.Mode != nil && *l.TLS.Mode == gwv1.TLSModePassthrough
	switch {
	case l.Protocol == gwv1.HTTPProtocolType, l.Protocol == gwv1.HTTPSProtocolType && !passthrough:
		return []gwv1.RouteGroupKind{httpRouteKind, grpcRouteKind}, true
	case l.Protocol == gwv1.TLSProtocolType && passthrough:
		return []gwv1.RouteGroupKind{tlsRouteKind}, true
	case l.Protocol == gwv1.TCPProtocolType:
		return []gwv1.RouteGroupKind{tcpRouteKind}, true
	}
	return nil, false
}

// allows reports whether the listener takes routes of kind.
func (l *servedListener) allows(kind gwv1.Kind) bool {
	return slices.ContainsFunc(l.kinds, func(k gwv1.RouteGroupKind) bool { return k.Kind == kind })
}

// stream reports whether the listener forwards connections (TLS
// passthrough, TCP) rather than HTTP requests.
func (l *servedListener) stream() bool {
	return l.allows(tlsRouteKind.Kind) || l.allows(tcpRouteKind.Kind)
}

var (
	httpRouteKind = gwv1.RouteGroupKind{Group: pointerTo(gwv1.Group(gwv1.GroupName)), Kind: "HTTPRoute"}
	grpcRouteKind = gwv1.RouteGroupKind{Group: pointerTo(gwv1.Group(gwv1.GroupName)), Kind: "GRPCRoute"}
	tlsRouteKind  = gwv1.RouteGroupKind{Group: pointerTo(gwv1.Group(gwv1.GroupName)), Kind: "TLSRoute"}
	tcpRouteKind  = gwv1.RouteGroupKind{Group: pointerTo(gwv1.Group(gwv1.GroupName)), Kind: "TCPRoute"}
)

// routeKinds splits a listener's allowed route kinds into those Gluon
// serves on its protocol (all of them by default) and the others.
func routeKinds(allowed *gwv1.AllowedRoutes, served []gwv1.RouteGroupKind) ([]gwv1.RouteGroupKind, []string) {
	if allowed == nil || len(allowed.Kinds) == 0 {
		return served, nil
	}
	var kinds []gwv1.RouteGroupKind
	var invalid []string
	for _, k := range allowed.Kinds {
		group := gwv1.Group(gwv1.GroupName)
		if k.Group != nil {
			group = *k.Group
		}
		if i := slices.IndexFunc(served, func(s gwv1.RouteGroupKind) bool { return s.Kind == k.Kind }); group == gwv1.GroupName && i >= 0 {
			kinds = append(kinds, served[i])
			continue
		}
		invalid = append(invalid, string(group)+"/"+string(k.Kind))
	}
	return kinds, invalid
}

// markConflicts marks HTTP listeners that share a port and a hostname: no
// request could tell which of them it is for, so neither is served; and
// listeners of one port that differ in protocol (HTTP and HTTPS).
func markConflicts(listeners []*servedListener) {
	protocols := map[gwv1.PortNumber]map[gwv1.ProtocolType]bool{}
	for _, l := range listeners {
		if !l.unsupported {
			if protocols[l.spec.Port] == nil {
				protocols[l.spec.Port] = map[gwv1.ProtocolType]bool{}
			}
			protocols[l.spec.Port][l.spec.Protocol] = true
		}
	}
	for _, l := range listeners {
		if !l.unsupported && len(protocols[l.spec.Port]) > 1 {
			l.conflicted, l.protocolConflict = true, true
		}
	}
	type portHost struct {
		port gwv1.PortNumber
		host string
	}
	seen := map[portHost][]*servedListener{}
	for _, l := range listeners {
		if l.unsupported {
			continue
		}
		k := portHost{l.spec.Port, l.hostname}
		seen[k] = append(seen[k], l)
	}
	for _, same := range seen {
		if len(same) > 1 {
			for _, l := range same {
				l.conflicted = true
			}
		}
	}
}

// ports returns the ports of the listeners that serve, sorted.
func (g *servedGateway) ports() []gwv1.PortNumber {
	var out []gwv1.PortNumber
	for _, l := range g.listeners {
		if l.serves() && !slices.Contains(out, l.spec.Port) {
			out = append(out, l.spec.Port)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
