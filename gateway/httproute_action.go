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
		if options, err = ruleOptions(&f, rule.Timeouts, rule.Retry); err != nil {
			problems = append(problems, routeProblem{gwv1.RouteReasonUnsupportedValue, err.Error()})
		}
		if f.routeOption != nil {
			options = c.withRouteOption(options, f.routeOption)
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

func ruleOptions(f *ruleFilters, timeouts *gwv1.HTTPRouteTimeouts, retry *gwv1.HTTPRouteRetry) (*api.RouteOptions, error) {
	var timeout *metav1.Duration
	var retries *api.RetryPolicy
	var err error
	if retry == nil {
		timeout, err = requestTimeout(timeouts)
	} else {
		retries, timeout, err = retryPolicy(retry, timeouts)
	}
	if err != nil {
		return nil, err
	}
	headers := &f.headers
	if len(headers.RequestHeadersToAdd)+len(headers.RequestHeadersToRemove)+len(headers.ResponseHeadersToAdd)+len(headers.ResponseHeadersToRemove) == 0 {
		headers = nil
	}
	if headers == nil && f.hostRewrite == "" && f.fullPath == nil && f.mirror == nil && f.cors == nil && timeout == nil && retries == nil {
		return nil, nil
	}
	o := &api.RouteOptions{HeaderManipulation: headers, HostRewrite: f.hostRewrite, Shadowing: f.mirror, Cors: f.cors, Timeout: timeout, Retries: retries}
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
		v, err := gatewayDuration("timeouts", d)
		if err != nil {
			return nil, err
		}
		if v != nil && (out == nil || out.Duration == 0 || (v.Duration != 0 && v.Duration < out.Duration)) {
			out = v
		}
	}
	return out, nil
}

// defaultRetryAttempts is Envoy Gateway's, when a retry stanza gives none.
const defaultRetryAttempts = 2

// retryPolicy is a rule's retry: connection failures and resets, as the
// Gateway API asks, and the codes it lists. With retries, timeouts.request
// bounds the whole request and timeouts.backendRequest each attempt; the
// backoff is Envoy's base interval (Envoy jitters below it, as in Envoy
// Gateway).
func retryPolicy(r *gwv1.HTTPRouteRetry, t *gwv1.HTTPRouteTimeouts) (*api.RetryPolicy, *metav1.Duration, error) {
	p := &api.RetryPolicy{RetryOn: "connect-failure,reset", NumRetries: defaultRetryAttempts}
	if r.Attempts != nil {
		if *r.Attempts < 1 {
			return nil, nil, fmt.Errorf("retry.attempts %d must be at least 1", *r.Attempts)
		}
		p.NumRetries = uint32(*r.Attempts)
	}
	for _, c := range r.Codes {
		p.RetriableStatusCodes = append(p.RetriableStatusCodes, uint32(c))
	}
	if len(p.RetriableStatusCodes) > 0 {
		p.RetryOn += ",retriable-status-codes"
	}
	base, err := gatewayDuration("retry.backoff", r.Backoff)
	if err != nil {
		return nil, nil, err
	}
	if base != nil && base.Duration > 0 {
		p.RetryBackOff = &api.RetryBackOff{BaseInterval: base}
	}
	if t == nil {
		return p, nil, nil
	}
	if p.PerTryTimeout, err = gatewayDuration("timeouts.backendRequest", t.BackendRequest); err != nil {
		return nil, nil, err
	}
	if p.PerTryTimeout != nil && p.PerTryTimeout.Duration == 0 {
		p.PerTryTimeout = nil
	}
	timeout, err := gatewayDuration("timeouts.request", t.Request)
	return p, timeout, err
}

// gatewayDuration parses a Gateway API duration; nil stays nil.
func gatewayDuration(field string, d *gwv1.Duration) (*metav1.Duration, error) {
	if d == nil {
		return nil, nil
	}
	v, err := time.ParseDuration(string(*d))
	if err == nil && v < 0 {
		err = fmt.Errorf("%s is negative", *d)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return &metav1.Duration{Duration: v}, nil
}
