package gateway

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// status folds the reports stage 1 made on generated resources into the
// Gateway API objects they came from, removes those reports, and returns
// the Gateway API status.
func (c *gatewayAPI) status(reports api.Reports) api.GatewayAPIStatus {
	if len(c.classes) == 0 {
		return api.GatewayAPIStatus{}
	}
	c.foldReports(reports)
	out := api.GatewayAPIStatus{
		GatewayClasses: map[string]gwv1.GatewayClassStatus{},
		Gateways:       map[types.NamespacedName]gwv1.GatewayStatus{},
		HTTPRoutes:     map[types.NamespacedName][]gwv1.RouteParentStatus{},
		GRPCRoutes:     map[types.NamespacedName][]gwv1.RouteParentStatus{},
		TLSRoutes:      map[types.NamespacedName][]gwv1.RouteParentStatus{},
		TCPRoutes:      map[types.NamespacedName][]gwv1.RouteParentStatus{},
	}
	byKind := map[gwv1.Kind]map[types.NamespacedName][]gwv1.RouteParentStatus{
		httpRouteKind.Kind: out.HTTPRoutes, grpcRouteKind.Kind: out.GRPCRoutes, tlsRouteKind.Kind: out.TLSRoutes, tcpRouteKind.Kind: out.TCPRoutes}
	for name, gc := range c.classes {
		out.GatewayClasses[name] = gwv1.GatewayClassStatus{Conditions: []metav1.Condition{
			condition(gwv1.GatewayClassConditionStatusAccepted, true, gwv1.GatewayClassReasonAccepted, "Gluon serves this class", gc.Generation),
		}}
	}
	for _, g := range c.gateways {
		out.Gateways[g.key] = g.status()
	}
	for _, r := range c.routes {
		if parents := r.status(); len(parents) > 0 {
			byKind[r.kind][r.key] = parents
		}
	}
	return out
}

func (g *servedGateway) status() gwv1.GatewayStatus {
	gen := g.gw.Generation
	out := gwv1.GatewayStatus{}
	accepted, programmed := 0, 0
	for _, l := range g.listeners {
		ls := l.status(gen)
		out.Listeners = append(out.Listeners, ls)
		if l.serves() {
			accepted++
		}
		if l.serves() && l.portProblem == "" {
			programmed++
		}
	}
	acceptedReason := gwv1.GatewayReasonAccepted
	if accepted < len(g.listeners) {
		acceptedReason = gwv1.GatewayReasonListenersNotValid
	}
	programmedReason := gwv1.GatewayReasonProgrammed
	if programmed == 0 {
		programmedReason = gwv1.GatewayReasonInvalid
	}
	out.Conditions = sortedConditions(
		condition(gwv1.GatewayConditionAccepted, accepted > 0, acceptedReason, countMessage(accepted, len(g.listeners), "accepted"), gen),
		condition(gwv1.GatewayConditionProgrammed, programmed > 0, programmedReason, countMessage(programmed, len(g.listeners), "programmed"), gen),
	)
	return out
}

func countMessage(n, of int, what string) string {
	if n == of {
		return "all listeners are " + what
	}
	return "some listeners are not " + what + "; see their conditions"
}

func (l *servedListener) status(gen int64) gwv1.ListenerStatus {
	accepted := condition(gwv1.ListenerConditionAccepted, true, gwv1.ListenerReasonAccepted, "listener is accepted", gen)
	switch {
	case l.unsupported:
		accepted = condition(gwv1.ListenerConditionAccepted, false, gwv1.ListenerReasonUnsupportedProtocol, "Gluon serves HTTP, HTTPS (TLS terminated), TLS (passed through) and TCP listeners, not "+protocolOf(l.spec), gen)
	case l.protocolConflict:
		accepted = condition(gwv1.ListenerConditionAccepted, false, gwv1.ListenerReasonProtocolConflict, "another listener of the port has another protocol", gen)
	case l.conflicted:
		accepted = condition(gwv1.ListenerConditionAccepted, false, gwv1.ListenerReasonHostnameConflict, "another HTTP listener has the same port and hostname", gen)
	}
	conflicted := condition(gwv1.ListenerConditionConflicted, false, gwv1.ListenerReasonNoConflicts, "no conflicts", gen)
	switch {
	case l.protocolConflict:
		conflicted = condition(gwv1.ListenerConditionConflicted, true, gwv1.ListenerReasonProtocolConflict, "another listener of the port has another protocol", gen)
	case l.conflicted:
		conflicted = condition(gwv1.ListenerConditionConflicted, true, gwv1.ListenerReasonHostnameConflict, "another HTTP listener has the same port and hostname", gen)
	}
	programmed := condition(gwv1.ListenerConditionProgrammed, true, gwv1.ListenerReasonProgrammed, "listener is programmed", gen)
	switch {
	case !l.serves():
		programmed = condition(gwv1.ListenerConditionProgrammed, false, gwv1.ListenerReasonInvalid, "listener is not served; see its Accepted condition", gen)
	case l.portProblem != "":
		programmed = condition(gwv1.ListenerConditionProgrammed, false, gwv1.ListenerReasonInvalid, l.portProblem, gen)
	}
	resolved := condition(gwv1.ListenerConditionResolvedRefs, true, gwv1.ListenerReasonResolvedRefs, "references are resolved", gen)
	switch {
	case l.certProblem != "":
		resolved = condition(gwv1.ListenerConditionResolvedRefs, false, l.certReason, l.certProblem, gen)
	case len(l.invalidKinds) > 0:
		resolved = condition(gwv1.ListenerConditionResolvedRefs, false, gwv1.ListenerReasonInvalidRouteKinds, "route kinds not served: "+strings.Join(l.invalidKinds, ", "), gen)
	}
	return gwv1.ListenerStatus{
		Name:           l.spec.Name,
		SupportedKinds: l.kinds,
		AttachedRoutes: int32(len(l.routes)),
		Conditions:     sortedConditions(accepted, conflicted, programmed, resolved),
	}
}

// protocolOf names a listener's protocol, with its TLS mode if any.
func protocolOf(l *gwv1.Listener) string {
	if l.TLS != nil && l.TLS.Mode != nil {
		return string(l.Protocol) + " " + string(*l.TLS.Mode)
	}
	return string(l.Protocol)
}
