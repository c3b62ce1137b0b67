package gateway

import (
	"fmt"
	"slices"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// backends translates a rule's backendRefs into a route action: nil when no
// backend can take traffic (none resolves, or every weight is zero).
// Unresolved backends are left out; the others take all the traffic.
func (c *gatewayAPI) backends(rs *routeState, rule *gwv1.HTTPRouteRule, ruleFunction string) (*api.RouteAction, []routeProblem) {
	var dests []api.WeightedDestination
	var problems []routeProblem
	for k := range rule.BackendRefs {
		b := &rule.BackendRefs[k]
		fn, msg := backendFunction(b.Filters, ruleFunction)
		if msg != "" {
			problems = append(problems, routeProblem{gwv1.RouteReasonUnsupportedValue, fmt.Sprintf("backendRefs[%d]: %s", k, msg)})
			continue
		}
		weight := uint32(1)
		if b.Weight != nil {
			weight = uint32(max(*b.Weight, 0))
		}
		if weight == 0 {
			continue // takes no traffic: nothing to resolve
		}
		ref, ok := c.resolveBackend(rs, b.BackendObjectReference)
		if !ok {
			continue
		}
		d := api.Destination{Upstream: &ref}
		if fn != "" {
			if d.DestinationSpec, msg = c.functionSpec(ref, fn); msg != "" {
				problems = append(problems, routeProblem{gwv1.RouteReasonUnsupportedValue, fmt.Sprintf("backendRefs[%d]: %s", k, msg)})
				continue
			}
		}
		dests = append(dests, api.WeightedDestination{Destination: d, Weight: weight})
	}
	switch {
	case len(problems) > 0 || len(dests) == 0:
		return nil, problems
	case len(dests) == 1:
		return &api.RouteAction{Single: &dests[0].Destination}, nil
	case ruleFunction != "" || slices.ContainsFunc(dests, func(d api.WeightedDestination) bool { return d.Destination.DestinationSpec != nil }):
		return nil, []routeProblem{{gwv1.RouteReasonUnsupportedValue, "a function is called through a rule's only backend, not a split"}}
	}
	return &api.RouteAction{Multi: &api.MultiDestination{Destinations: dests}}, nil
}

// backendFunction is the function a backend is called with: its own
// Function filter's, else the rule's. No other backend filter is supported.
func backendFunction(filters []gwv1.HTTPRouteFilter, ruleFunction string) (string, string) {
	fn := ruleFunction
	for _, f := range filters {
		name, ok := functionName(f.ExtensionRef)
		if f.Type != gwv1.HTTPRouteFilterExtensionRef || !ok {
			return "", fmt.Sprintf("filter type %s is not supported on a backend; only an ExtensionRef to a %s %s", f.Type, api.Group, functionKind)
		}
		fn = name
	}
	return fn, ""
}

// functionSpec says how to call a function of a gluon.dev Upstream: by the
// kind of upstream, as a VirtualService destination would.
func (c *gatewayAPI) functionSpec(ref api.ResourceRef, fn string) (*api.DestinationSpec, string) {
	u := c.userUpstreams[ref]
	switch {
	case u == nil:
		return nil, fmt.Sprintf("function %q: functions are called on %s Upstream backends only", fn, api.Group)
	case u.Spec.AWS != nil:
		return &api.DestinationSpec{AWS: &api.AWSDestinationSpec{LogicalName: fn}}, ""
	case u.Spec.Azure != nil:
		return &api.DestinationSpec{Azure: &api.AzureDestinationSpec{FunctionName: fn}}, ""
	}
	return &api.DestinationSpec{Rest: &api.RestDestinationSpec{FunctionName: fn}}, ""
}

// mirrorPercent is the share of requests a mirror filter copies, 0-100.
func mirrorPercent(m *gwv1.HTTPRequestMirrorFilter) *uint32 {
	switch {
	case m.Percent != nil:
		return pointerTo(uint32(min(max(*m.Percent, 0), 100)))
	case m.Fraction != nil:
		denominator := int32(100)
		if m.Fraction.Denominator != nil {
			denominator = max(*m.Fraction.Denominator, 1)
		}
		return pointerTo(uint32(min(max(int64(m.Fraction.Numerator)*100/int64(denominator), 0), 100)))
	}
	return nil // Gluon's default: every request
}

// mirror resolves a mirror filter's backend; nil when it does not resolve
// (ResolvedRefs says why), and nothing is mirrored.
func (c *gatewayAPI) mirror(rs *routeState, m *gwv1.HTTPRequestMirrorFilter) *api.Shadowing {
	ref, ok := c.resolveBackend(rs, m.BackendRef)
	if !ok {
		return nil
	}
	return &api.Shadowing{Upstream: ref, Percentage: mirrorPercent(m)}
}
