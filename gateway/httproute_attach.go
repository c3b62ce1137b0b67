package gateway

import (
	"slices"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// routeState is a route being converted (an HTTPRoute with its translated
// rules, or a TLSRoute or TCPRoute with its backends) and what its status
// will say.
type routeState struct {
	kind      gwv1.Kind
	meta      *metav1.ObjectMeta
	key       types.NamespacedName
	hostnames []gwv1.Hostname
	// route and rules are an HTTPRoute's; dests a TLSRoute's or TCPRoute's
	// backends, resolved.
	route *gwv1.HTTPRoute
	rules []translatedRule
	dests []api.WeightedDestination
	// problems make the route's Accepted condition False (the rules they
	// concern answer 500); refProblems make ResolvedRefs False; notes are
	// added to the Accepted message.
	problems    []routeProblem
	refProblems []routeProblem
	notes       []string
	parents     []parentAttachment
}

// routeProblem is a condition reason and what it is about.
type routeProblem struct {
	reason  gwv1.RouteConditionReason
	message string
}

// parentAttachment is the outcome of one parentRef that names a served
// Gateway.
type parentAttachment struct {
	ref    gwv1.ParentReference
	reason gwv1.RouteConditionReason
}

// attachRoutes translates every HTTPRoute and attaches it to the listeners
// of the served Gateways its parentRefs name. Routes are kept in the
// Gateway API's precedence order: oldest first, then by namespace/name.
func (c *gatewayAPI) attachRoutes() {
	byKey := map[types.NamespacedName]*servedGateway{}
	for _, g := range c.gateways {
		byKey[g.key] = g
	}
	for _, r := range precedenceOrder(c.in.HTTPRoutes) {
		if !servesAny(r.Namespace, r.Spec.ParentRefs, byKey) {
			continue // another controller's route
		}
		rs := &routeState{kind: httpRouteKind.Kind, meta: &r.ObjectMeta, key: types.NamespacedName{Namespace: r.Namespace, Name: r.Name},
			hostnames: r.Spec.Hostnames, route: r}
		c.translateRules(rs)
		c.attachParents(rs, r.Spec.ParentRefs, byKey)
	}
	for _, g := range precedenceOrder(c.in.GRPCRoutes) {
		if !servesAny(g.Namespace, g.Spec.ParentRefs, byKey) {
			continue
		}
		r := httpRouteOf(g)
		rs := &routeState{kind: grpcRouteKind.Kind, meta: &g.ObjectMeta, key: types.NamespacedName{Namespace: g.Namespace, Name: g.Name},
			hostnames: g.Spec.Hostnames, route: r}
		c.translateRules(rs)
		c.attachParents(rs, r.Spec.ParentRefs, byKey)
	}
	c.attachStreamRoutes(byKey)
}

// attachParents attaches a route to the served Gateways its parentRefs name.
func (c *gatewayAPI) attachParents(rs *routeState, refs []gwv1.ParentReference, byKey map[types.NamespacedName]*servedGateway) {
	for _, ref := range refs {
		if g := byKey[parentGateway(rs.key.Namespace, ref)]; g != nil {
			rs.parents = append(rs.parents, parentAttachment{ref: ref, reason: c.attach(rs, g, ref)})
		}
	}
	c.routes = append(c.routes, rs)
}

// servesAny reports whether a parentRef names a served Gateway.
func servesAny(ns string, refs []gwv1.ParentReference, byKey map[types.NamespacedName]*servedGateway) bool {
	return slices.ContainsFunc(refs, func(ref gwv1.ParentReference) bool { return byKey[parentGateway(ns, ref)] != nil })
}

func precedenceOrder[R interface{ GetObjectMeta() metav1.Object }](routes []R) []R {
	out := append([]R(nil), routes...)
	sort.SliceStable(out, func(i, j int) bool { return olderOrFirst(out[i].GetObjectMeta(), out[j].GetObjectMeta()) })
	return out
}

// olderOrFirst is the Gateway API's tie break between routes: the oldest,
// then the first by namespace/name.
func olderOrFirst(a, b metav1.Object) bool {
	at, bt := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !at.Equal(&bt) {
		return at.Before(&bt)
	}
	if a.GetNamespace() != b.GetNamespace() {
		return a.GetNamespace() < b.GetNamespace()
	}
	return a.GetName() < b.GetName()
}

// parentGateway names the Gateway a parentRef points at; the zero name when
// it points at something else.
func parentGateway(routeNS string, ref gwv1.ParentReference) types.NamespacedName {
	if (ref.Group != nil && *ref.Group != gwv1.GroupName) || (ref.Kind != nil && *ref.Kind != "Gateway") {
		return types.NamespacedName{}
	}
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	return types.NamespacedName{Namespace: ns, Name: string(ref.Name)}
}

// attach attaches a route to the listeners of g that ref selects, allow it,
// and share a hostname with it; the reason says how that went.
func (c *gatewayAPI) attach(rs *routeState, g *servedGateway, ref gwv1.ParentReference) gwv1.RouteConditionReason {
	selected := g.selectedListeners(ref)
	if len(selected) == 0 {
		return gwv1.RouteReasonNoMatchingParent
	}
	var allowed []*servedListener
	for _, l := range selected {
		if l.serves() && l.allows(rs.kind) && c.allowsNamespace(l, g.key.Namespace, rs.key.Namespace) {
			allowed = append(allowed, l)
		}
	}
	if len(allowed) == 0 {
		return gwv1.RouteReasonNotAllowedByListeners
	}
	attached := false
	for _, l := range allowed {
		for _, h := range effectiveHostnames(l.hostname, rs.hostnames) {
			attached = true
			l.routes[rs.key] = true
			g.add(attachment{listener: l, hostname: h, route: rs})
		}
	}
	if !attached {
		return gwv1.RouteReasonNoMatchingListenerHostname
	}
	return gwv1.RouteReasonAccepted
}

func (g *servedGateway) add(a attachment) {
	if g.attached[a] {
		return // another parentRef attached it already
	}
	g.attached[a] = true
	g.attachments[a.listener.spec.Port] = append(g.attachments[a.listener.spec.Port], a)
}

// selectedListeners are the listeners a parentRef names by sectionName
// and port, every listener when it names neither.
func (g *servedGateway) selectedListeners(ref gwv1.ParentReference) []*servedListener {
	var out []*servedListener
	for _, l := range g.listeners {
		if ref.SectionName != nil && *ref.SectionName != l.spec.Name {
			continue
		}
		if ref.Port != nil && *ref.Port != l.spec.Port {
			continue
		}
		out = append(out, l)
	}
	return out
}

// allowsNamespace applies a listener's allowedRoutes.namespaces (default:
// the Gateway's own namespace).
func (c *gatewayAPI) allowsNamespace(l *servedListener, gatewayNS, routeNS string) bool {
	from := gwv1.NamespacesFromSame
	var selector *metav1.LabelSelector
	if ar := l.spec.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		if ar.Namespaces.From != nil {
			from = *ar.Namespaces.From
		}
		selector = ar.Namespaces.Selector
	}
	switch from {
	case gwv1.NamespacesFromAll:
		return true
	case gwv1.NamespacesFromSame:
		return routeNS == gatewayNS
	case gwv1.NamespacesFromSelector:
		s, err := metav1.LabelSelectorAsSelector(selector)
		return selector != nil && err == nil && s.Matches(labels.Set(c.in.NamespaceLabels[routeNS]))
	}
	return false
}
