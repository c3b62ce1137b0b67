package translator

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// headersFeature adds and removes request and response headers, on
// virtual hosts and routes.
var headersFeature = feature{
	name: "headers",
	virtualHost: func(v *routev3.VirtualHost, vh *ir.VirtualHost) error {
		applyVirtualHostHeaders(v, vh.Headers)
		return nil
	},
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) error {
		applyRouteHeaders(out, r.Headers)
		return nil
	},
}

func applyVirtualHostHeaders(v *routev3.VirtualHost, h *ir.HeaderMutation) {
	if h == nil {
		return
	}
	v.RequestHeadersToAdd = headerOptions(h.AddRequest)
	v.RequestHeadersToRemove = h.RemoveRequest
	v.ResponseHeadersToAdd = headerOptions(h.AddResponse)
	v.ResponseHeadersToRemove = h.RemoveResponse
}

func applyRouteHeaders(r *routev3.Route, h *ir.HeaderMutation) {
	if h == nil {
		return
	}
	r.RequestHeadersToAdd = headerOptions(h.AddRequest)
	r.RequestHeadersToRemove = h.RemoveRequest
	r.ResponseHeadersToAdd = headerOptions(h.AddResponse)
	r.ResponseHeadersToRemove = h.RemoveResponse
}

func headerOptions(in []ir.HeaderValue) []*corev3.HeaderValueOption {
	var out []*corev3.HeaderValueOption
	for _, h := range in {
		action := corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
		if h.Append {
			action = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
		}
		out = append(out, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: h.Name, Value: h.Value}, AppendAction: action})
	}
	return out
}
