package gateway

import (
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
	return f
}

func retry(r *api.RetryPolicy) *ir.Retry {
	if r == nil {
		return nil
	}
	out := &ir.Retry{RetryOn: r.RetryOn, NumRetries: r.NumRetries}
	if out.RetryOn == "" {
		out.RetryOn = "5xx"
	}
	if out.NumRetries == 0 {
		out.NumRetries = 1
	}
	if r.PerTryTimeout != nil {
		out.PerTryTimeout = ir.NewDuration(r.PerTryTimeout.Duration)
	}
	if b := r.RetryBackOff; b != nil {
		if b.BaseInterval != nil {
			out.BaseInterval = ir.NewDuration(b.BaseInterval.Duration)
		}
		if b.MaxInterval != nil {
			out.MaxInterval = ir.NewDuration(b.MaxInterval.Duration)
		}
	}
	return out
}

func headerMutation(h *api.HeaderManipulation) *ir.HeaderMutation {
	if h == nil {
		return nil
	}
	out := &ir.HeaderMutation{RemoveRequest: h.RequestHeadersToRemove, RemoveResponse: h.ResponseHeadersToRemove}
	out.AddRequest = headerValues(h.RequestHeadersToAdd)
	out.AddResponse = headerValues(h.ResponseHeadersToAdd)
	return out
}

func headerValues(in []api.HeaderValueOption) []ir.HeaderValue {
	var out []ir.HeaderValue
	for _, o := range in {
		out = append(out, ir.HeaderValue{Name: o.Header.Key, Value: o.Header.Value, Append: o.Append == nil || *o.Append})
	}
	return out
}
