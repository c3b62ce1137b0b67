package gateway

import (
	"fmt"
	"regexp"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// translatedRule is one HTTPRoute rule as Gluon routes, per match.
type translatedRule struct {
	matches []translatedMatch
}

// translatedMatch is one match of a rule: its rank among all the matches
// of a virtual host, and the Gluon routes that implement it (two for a
// path prefix: the path itself and what lies under it).
type translatedMatch struct {
	index  int // in the rule's matches
	rank   matchRank
	routes []api.Route
}

// defaultMatch is the Gateway API's match of a rule that has none.
var defaultMatch = gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: pointerTo(gwv1.PathMatchPathPrefix), Value: pointerTo("/")}}

func pointerTo[T any](v T) *T { return &v }

// translateRules turns every rule of a route into Gluon routes; a rule or
// match that cannot be translated is reported on the route.
func (c *gatewayAPI) translateRules(rs *routeState) {
	for i := range rs.route.Spec.Rules {
		rule := &rs.route.Spec.Rules[i]
		action := c.ruleAction(rs, i, rule)
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gwv1.HTTPRouteMatch{defaultMatch}
		}
		var tr translatedRule
		for j := range matches {
			name := fmt.Sprintf("%s_%s-rule-%d-match-%d", rs.key.Namespace, rs.key.Name, i, j)
			routes, err := matchRoutes(name, &matches[j], action)
			if err != nil {
				rs.problems = append(rs.problems, routeProblem{gwv1.RouteReasonUnsupportedValue, fmt.Sprintf("rule %d match %d: %v; the match is left out", i, j, err)})
				continue
			}
			tr.matches = append(tr.matches, translatedMatch{index: j, rank: rankMatch(&matches[j]), routes: routes})
		}
		rs.rules = append(rs.rules, tr)
	}
}

// matchRoutes builds the Gluon routes of one match: one per path part,
// each doing the rule's action.
func matchRoutes(name string, m *gwv1.HTTPRouteMatch, action ruleAction) ([]api.Route, error) {
	conditions, err := matchConditions(m)
	if err != nil {
		return nil, err
	}
	parts, err := pathParts(m.Path, action.replacePrefix != nil)
	if err != nil {
		return nil, err
	}
	out := make([]api.Route, 0, len(parts))
	for _, p := range parts {
		r := action.route
		r.Name = name
		if p.subpath && len(parts) > 1 {
			r.Name += "-subpath"
		}
		matcher := conditions
		matcher.Prefix, matcher.Exact, matcher.Regex = p.prefix, p.exact, p.regex
		r.Matchers = []api.Matcher{matcher}
		if action.replacePrefix != nil {
			r = withPrefixRewrite(r, p.rewrite(*action.replacePrefix))
		}
		out = append(out, r)
	}
	return out, nil
}

// matchConditions translates a match's headers, query parameters and method.
func matchConditions(m *gwv1.HTTPRouteMatch) (api.Matcher, error) {
	var out api.Matcher
	for _, h := range m.Headers {
		regex := h.Type != nil && *h.Type == gwv1.HeaderMatchRegularExpression
		if err := checkRegex(regex, h.Value); err != nil {
			return out, fmt.Errorf("header %s: %w", h.Name, err)
		}
		out.Headers = append(out.Headers, api.HeaderMatcher{Name: string(h.Name), Value: h.Value, Regex: regex})
	}
	for _, q := range m.QueryParams {
		regex := q.Type != nil && *q.Type == gwv1.QueryParamMatchRegularExpression
		if err := checkRegex(regex, q.Value); err != nil {
			return out, fmt.Errorf("query parameter %s: %w", q.Name, err)
		}
		out.QueryParameters = append(out.QueryParameters, api.QueryParameterMatcher{Name: string(q.Name), Value: q.Value, Regex: regex})
	}
	if m.Method != nil {
		out.Methods = []string{string(*m.Method)}
	}
	return out, nil
}

// checkRegex checks what Envoy's RE2 would refuse, at config time.
func checkRegex(isRegex bool, re string) error {
	if !isRegex {
		return nil
	}
	if _, err := regexp.Compile(re); err != nil {
		return fmt.Errorf("regular expression: %w", err)
	}
	return nil
}
