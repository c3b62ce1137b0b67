package gateway

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// ruleAction is what a rule does with the requests its matches take: a
// Gluon route without matchers, and the ReplacePrefixMatch replacement its
// path parts adapt to themselves.
type ruleAction struct {
	route         api.Route
	replacePrefix *string
}

// ruleAction translates a rule's filters and backends. A rule Gluon cannot
// honour is not skipped, as the Gateway API asks: it answers 500, like a
// rule without a backend that can take traffic.
func (c *gatewayAPI) ruleAction(rs *routeState, i int, rule *gwv1.HTTPRouteRule) ruleAction {
	if rule.Retry != nil {
		rs.notes = append(rs.notes, fmt.Sprintf("rule %d: retry is not supported yet and is ignored", i))
	}
	if rule.SessionPersistence != nil {
		rs.notes = append(rs.notes, fmt.Sprintf("rule %d: sessionPersistence is not supported yet and is ignored", i))
	}
	f, problems := c.readFilters(rs, rule)
	if len(problems) == 0 && f.redirect != nil {
		return ruleAction{route: api.Route{RedirectAction: f.redirect}, replacePrefix: f.replacePrefix}
	}
	var action *api.RouteAction
	var options *api.RouteOptions
	if len(problems) == 0 {
		action, problems = c.backends(rs, rule, f.function)
	}
	if len(problems) == 0 {
		var err error
		if options, err = ruleOptions(&f, rule.Timeouts); err != nil {
			problems = append(problems, routeProblem{gwv1.RouteReasonUnsupportedValue, err.Error()})
		}
	}
	for _, p := range problems {
		rs.problems = append(rs.problems, routeProblem{p.reason, fmt.Sprintf("rule %d: %s; its requests get a 500", i, p.message)})
	}
	if len(problems) > 0 || action == nil {
		return ruleAction{route: api.Route{DirectResponseAction: &api.DirectResponseAction{Status: 500}}}
	}
	return ruleAction{route: api.Route{RouteAction: action, Options: options}, replacePrefix: f.replacePrefix}
}

// fullPathPattern matches the whole path (Envoy rewrites the path without
// its query), for ReplaceFullPath.
const fullPathPattern = "^.*$"

func ruleOptions(f *ruleFilters, timeouts *gwv1.HTTPRouteTimeouts) (*api.RouteOptions, error) {
	timeout, err := requestTimeout(timeouts)
	if err != nil {
		return nil, err
	}
	headers := &f.headers
	if len(headers.RequestHeadersToAdd)+len(headers.RequestHeadersToRemove)+len(headers.ResponseHeadersToAdd)+len(headers.ResponseHeadersToRemove) == 0 {
		headers = nil
	}
	if headers == nil && f.hostRewrite == "" && f.fullPath == nil && f.mirror == nil && f.cors == nil && timeout == nil {
		return nil, nil
	}
	o := &api.RouteOptions{HeaderManipulation: headers, HostRewrite: f.hostRewrite, Shadowing: f.mirror, Cors: f.cors, Timeout: timeout}
	if f.fullPath != nil {
		o.RegexRewrite = &api.RegexRewrite{Pattern: api.RegexPattern{Regex: fullPathPattern}, Substitution: *f.fullPath}
	}
	return o, nil
}

// requestTimeout is the shortest of the rule's timeouts, zero (no timeout)
// when the only one set is zero. Gluon has no per-try timeout without
// retries; without retries one backend request is the whole request, so
// backendRequest bounds it as well.
func requestTimeout(t *gwv1.HTTPRouteTimeouts) (*metav1.Duration, error) {
	if t == nil {
		return nil, nil
	}
	var out *metav1.Duration
	for _, d := range []*gwv1.Duration{t.Request, t.BackendRequest} {
		if d == nil {
			continue
		}
		v, err := time.ParseDuration(string(*d))
		if err == nil && v < 0 {
			err = fmt.Errorf("%s is negative", *d)
		}
		if err != nil {
			return nil, fmt.Errorf("timeouts: %w", err)
		}
		if out == nil || out.Duration == 0 || (v != 0 && v < out.Duration) {
			out = &metav1.Duration{Duration: v}
		}
	}
	return out, nil
}
