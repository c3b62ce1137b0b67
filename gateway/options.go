package gateway

import (
	"fmt"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// forward builds a Forward action from destinations and route options.
func forward(dests []ir.Destination, o *api.RouteOptions) *ir.Forward {
	f := &ir.Forward{Destinations: dests}
	if o == nil {
		return f
	}
	f.PrefixRewrite = o.PrefixRewrite
	if o.RegexRewrite != nil {
		f.RegexRewrite = &ir.RegexRewrite{Pattern: o.RegexRewrite.Pattern.Regex, Substitution: o.RegexRewrite.Substitution}
	}
	f.HostRewrite = o.HostRewrite
	f.AutoHostRewrite = o.AutoHostRewrite != nil && *o.AutoHostRewrite
	if o.Timeout != nil {
		f.Timeout = ir.NewDuration(o.Timeout.Duration)
	}
	f.Retry = retry(o.Retries)
	f.HashPolicies = hashPolicies(o.LbHash)
	return f
}

func retry(r *api.RetryPolicy) *ir.Retry {
	if r == nil {
		return nil
	}
	out := &ir.Retry{RetryOn: r.RetryOn, NumRetries: r.NumRetries, RetriableStatusCodes: r.RetriableStatusCodes}
	if out.RetryOn == "" {
		out.RetryOn = "5xx"
	}
	if out.NumRetries == 0 {
		out.NumRetries = 1
	}
	out.PerTryTimeout = optDuration(r.PerTryTimeout)
	if b := r.RetryBackOff; b != nil {
		out.BaseInterval, out.MaxInterval = optDuration(b.BaseInterval), optDuration(b.MaxInterval)
	}
	return out
}

// headerMutation translates a header manipulation of vs; where names the
// virtual host or route in warnings.
func (t *translation) headerMutation(vs *api.VirtualService, where string, h *api.HeaderManipulation) *ir.HeaderMutation {
	if h == nil {
		return nil
	}
	out := &ir.HeaderMutation{RemoveRequest: h.RequestHeadersToRemove, RemoveResponse: h.ResponseHeadersToRemove}
	out.AddRequest = t.headerValues(vs, where, h.RequestHeadersToAdd)
	out.AddResponse = t.headerValues(vs, where, h.ResponseHeadersToAdd)
	return out
}

func (t *translation) headerValues(vs *api.VirtualService, where string, in []api.HeaderValueOption) []ir.HeaderValue {
	var out []ir.HeaderValue
	for _, o := range in {
		appendValue := o.Append == nil || *o.Append
		if o.HeaderSecretRef == nil {
			out = append(out, ir.HeaderValue{Name: o.Header.Key, Value: o.Header.Value, Append: appendValue})
			continue
		}
		headers, err := t.secretHeaders(o.HeaderSecretRef.Ref(vs.Namespace))
		if err != nil {
			t.reports.Warn(api.KeyOf(vs), api.Problem{Code: api.SecretNotFound, Path: where, Message: fmt.Sprintf("%v; its headers are not added", err)})
			continue
		}
		for _, name := range sortedNames(headers) {
			out = append(out, ir.HeaderValue{Name: name, Value: headers[name], Append: appendValue})
		}
	}
	return out
}
