package gateway

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// status is the route's status for each parentRef naming a served Gateway.
func (r *routeState) status() []gwv1.RouteParentStatus {
	gen := r.meta.Generation
	resolved := condition(gwv1.RouteConditionResolvedRefs, true, gwv1.RouteReasonResolvedRefs, "all references are resolved", gen)
	if reason, msg := summary(r.refProblems); msg != "" {
		resolved = condition(gwv1.RouteConditionResolvedRefs, false, reason, msg, gen)
	}
	var out []gwv1.RouteParentStatus
	for _, p := range r.parents {
		out = append(out, gwv1.RouteParentStatus{
			ParentRef:      p.ref,
			ControllerName: api.GatewayControllerName,
			Conditions:     sortedConditions(r.accepted(p.reason, gen), resolved),
		})
	}
	return out
}

// notAttachedMessages explain the reasons a route does not attach.
var notAttachedMessages = map[gwv1.RouteConditionReason]string{
	gwv1.RouteReasonNoMatchingParent:           "no listener of the Gateway has the parentRef's sectionName and port",
	gwv1.RouteReasonNotAllowedByListeners:      "no listener of the parentRef allows the route: protocol, route kinds or namespaces",
	gwv1.RouteReasonNoMatchingListenerHostname: "no listener hostname of the parentRef matches the route's hostnames",
}

func (r *routeState) accepted(attach gwv1.RouteConditionReason, gen int64) metav1.Condition {
	if attach != gwv1.RouteReasonAccepted {
		return condition(gwv1.RouteConditionAccepted, false, attach, notAttachedMessages[attach], gen)
	}
	ok, reason, msg := true, gwv1.RouteReasonAccepted, "route is accepted"
	if problemReason, problems := summary(r.problems); problems != "" {
		ok, reason, msg = false, problemReason, problems
	}
	if notes := sortedUnique(r.notes); len(notes) > 0 {
		msg += "; " + strings.Join(notes, "; ")
	}
	return condition(gwv1.RouteConditionAccepted, ok, reason, msg, gen)
}

// summary joins problems into one message, and takes the reason of the
// first: messages are sorted, so that status does not depend on the order
// problems were found in.
func summary(problems []routeProblem) (gwv1.RouteConditionReason, string) {
	if len(problems) == 0 {
		return "", ""
	}
	sorted := slices.Clone(problems)
	slices.SortFunc(sorted, func(a, b routeProblem) int { return strings.Compare(a.message, b.message) })
	sorted = slices.CompactFunc(sorted, func(a, b routeProblem) bool { return a.message == b.message })
	msgs := make([]string, len(sorted))
	for i, p := range sorted {
		msgs[i] = p.message
	}
	return sorted[0].reason, strings.Join(msgs, "; ")
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
