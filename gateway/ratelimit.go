package gateway

import (
	"fmt"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// RateLimitDomain is the domain Gluon's proxies ask the rate-limit service
// about; Settings' descriptors are its limits.
const RateLimitDomain = "gluon"

// FunctionDescriptorKey is the entry destinationFunction adds: the called
// function as "<namespace>/<upstream>/<function>", so that one function
// can be limited.
const FunctionDescriptorKey = "function"

const defaultRateLimitTimeout = 100 * time.Millisecond

// rateLimit converts rate-limit options; function names the route's
// function destination ("" when it calls none, or for a virtual host).
func rateLimit(local *api.LocalRateLimit, opts *api.RateLimitOptions, function string) (*ir.RateLimit, []string) {
	out := &ir.RateLimit{}
	if local != nil {
		perFill := local.TokensPerFill
		if perFill == 0 {
			perFill = local.MaxTokens
		}
		out.Local = &ir.LocalRateLimit{MaxTokens: local.MaxTokens, TokensPerFill: perFill, FillInterval: ir.Duration(local.FillInterval.Duration)}
	}
	var warnings []string
	if opts != nil {
		for i, set := range opts.RateLimits {
			actions, err := rateLimitActions(set.Actions, function)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("rate limit %d: %v; it is left out", i, err))
				continue
			}
			out.Global = append(out.Global, ir.RateLimitActions{Actions: actions})
		}
	}
	if out.Local == nil && len(out.Global) == 0 {
		return nil, warnings
	}
	return out, warnings
}

func rateLimitActions(in []api.RateLimitAction, function string) ([]ir.RateLimitAction, error) {
	out := make([]ir.RateLimitAction, 0, len(in))
	for _, a := range in {
		switch {
		case a.RemoteAddress != nil:
			out = append(out, ir.RateLimitAction{RemoteAddress: true})
		case a.RequestHeaders != nil:
			h := a.RequestHeaders
			out = append(out, ir.RateLimitAction{RequestHeader: &ir.RequestHeaderEntry{Header: h.HeaderName, Key: h.DescriptorKey, SkipIfAbsent: h.SkipIfAbsent}})
		case a.GenericKey != nil:
			key := a.GenericKey.DescriptorKey
			if key == "" {
				key = "generic_key"
			}
			out = append(out, ir.RateLimitAction{GenericKey: &ir.DescriptorEntry{Key: key, Value: a.GenericKey.DescriptorValue}})
		case a.HeaderValueMatch != nil:
			out = append(out, ir.RateLimitAction{HeaderValueMatch: headerValueMatch(a.HeaderValueMatch)})
		case a.DestinationFunction != nil:
			if function == "" {
				return nil, fmt.Errorf("destinationFunction needs a route that calls a function")
			}
			out = append(out, ir.RateLimitAction{GenericKey: &ir.DescriptorEntry{Key: FunctionDescriptorKey, Value: function}})
		}
	}
	return out, nil
}

func headerValueMatch(h *api.HeaderValueMatchAction) *ir.HeaderValueMatchEntry {
	key := h.DescriptorKey
	if key == "" {
		key = "header_match"
	}
	out := &ir.HeaderValueMatchEntry{DescriptorEntry: ir.DescriptorEntry{Key: key, Value: h.DescriptorValue}, ExpectMatch: h.ExpectMatch == nil || *h.ExpectMatch}
	out.Headers = match(&api.Matcher{Headers: h.Headers}).Headers
	return out
}

// routeFunction names the function a route calls, for destinationFunction.
func routeFunction(ns string, r *api.Route) string {
	single := r.RouteAction.Single
	if single == nil || single.DestinationSpec == nil {
		return ""
	}
	ref := single.Upstream.Ref(ns)
	switch d := single.DestinationSpec; {
	case d.Rest != nil:
		return ref.Namespace + "/" + ref.Name + "/" + d.Rest.FunctionName
	case d.AWS != nil:
		return ref.Namespace + "/" + ref.Name + "/" + d.AWS.LogicalName
	case d.Azure != nil:
		return ref.Namespace + "/" + ref.Name + "/" + d.Azure.FunctionName
	}
	return ""
}

// rateLimitService is the proxy's rate-limit service when any of its
// routes has global limits.
func rateLimitService(s *api.Settings, listeners []*ir.Listener, opts Options) *ir.RateLimitService {
	if !hasGlobalLimits(listeners) {
		return nil
	}
	svc := &ir.RateLimitService{Address: opts.RateLimitAddress, Port: opts.RateLimitPort, Domain: RateLimitDomain, Timeout: ir.Duration(defaultRateLimitTimeout), TLS: opts.RateLimitTLS}
	if s != nil && s.Spec.Ratelimit != nil {
		svc.FailureModeDeny = s.Spec.Ratelimit.FailureModeDeny
		if t := s.Spec.Ratelimit.RequestTimeout; t != nil {
			svc.Timeout = ir.Duration(t.Duration)
		}
	}
	return svc
}

func hasGlobalLimits(listeners []*ir.Listener) bool {
	for _, l := range listeners {
		for _, vh := range l.VirtualHosts {
			if vh.RateLimit != nil && len(vh.RateLimit.Global) > 0 {
				return true
			}
			for _, r := range vh.Routes {
				if r.RateLimit != nil && len(r.RateLimit.Global) > 0 {
					return true
				}
			}
		}
	}
	return false
}
