package gateway

import (
	"regexp"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// httpRouteOf is the HTTPRoute that routes as a GRPCRoute does: a gRPC
// call is an HTTP/2 POST to /<service>/<method>, so a method match is a
// path match, a gRPC header match a header match, and the filters and
// backends are the HTTPRoute's own kinds. The rest of the Gateway API
// conversion then serves it; its backends are upstreams over HTTP/2.
func httpRouteOf(g *gwv1.GRPCRoute) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{ObjectMeta: g.ObjectMeta,
		Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: g.Spec.CommonRouteSpec, Hostnames: g.Spec.Hostnames}}
	for _, rule := range g.Spec.Rules {
		hr := gwv1.HTTPRouteRule{Name: rule.Name, Filters: httpFilters(rule.Filters), SessionPersistence: rule.SessionPersistence}
		for _, m := range rule.Matches {
			hr.Matches = append(hr.Matches, httpMatchOf(m))
		}
		for _, b := range rule.BackendRefs {
			hr.BackendRefs = append(hr.BackendRefs, gwv1.HTTPBackendRef{BackendRef: b.BackendRef, Filters: httpFilters(b.Filters)})
		}
		r.Spec.Rules = append(r.Spec.Rules, hr)
	}
	return r
}

// httpMatchOf is a gRPC match as an HTTP one: the method as the path
// (exact for a service and a method, a prefix for a service alone, a
// regular expression otherwise), headers as they are.
func httpMatchOf(m gwv1.GRPCRouteMatch) gwv1.HTTPRouteMatch {
	var out gwv1.HTTPRouteMatch
	for _, h := range m.Headers {
		hm := gwv1.HTTPHeaderMatch{Name: gwv1.HTTPHeaderName(h.Name), Value: h.Value, Type: pointerTo(gwv1.HeaderMatchExact)}
		if h.Type != nil && *h.Type == gwv1.GRPCHeaderMatchRegularExpression {
			hm.Type = pointerTo(gwv1.HeaderMatchRegularExpression)
		}
		out.Headers = append(out.Headers, hm)
	}
	mm := m.Method
	if mm == nil || mm.Service == nil && mm.Method == nil {
		out.Path = &gwv1.HTTPPathMatch{Type: pointerTo(gwv1.PathMatchPathPrefix), Value: pointerTo("/")}
		return out
	}
	service, method := deref(mm.Service), deref(mm.Method)
	switch regex := mm.Type != nil && *mm.Type == gwv1.GRPCMethodMatchRegularExpression; {
	case !regex && service != "" && method != "":
		out.Path = &gwv1.HTTPPathMatch{Type: pointerTo(gwv1.PathMatchExact), Value: pointerTo("/" + service + "/" + method)}
	case !regex && method == "":
		out.Path = &gwv1.HTTPPathMatch{Type: pointerTo(gwv1.PathMatchPathPrefix), Value: pointerTo("/" + service)}
	default:
		if !regex {
			service, method = regexp.QuoteMeta(service), regexp.QuoteMeta(method)
		}
		out.Path = &gwv1.HTTPPathMatch{Type: pointerTo(gwv1.PathMatchRegularExpression), Value: pointerTo("/" + orAny(service) + "/" + orAny(method))}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// orAny is a path segment pattern: the one given, else any segment.
func orAny(pattern string) string {
	if pattern == "" {
		return "[^/]+"
	}
	return pattern
}

// httpFilters are gRPC filters as the HTTP filters of the same types.
func httpFilters(in []gwv1.GRPCRouteFilter) []gwv1.HTTPRouteFilter {
	var out []gwv1.HTTPRouteFilter
	for _, f := range in {
		out = append(out, gwv1.HTTPRouteFilter{Type: gwv1.HTTPRouteFilterType(f.Type), RequestHeaderModifier: f.RequestHeaderModifier,
			ResponseHeaderModifier: f.ResponseHeaderModifier, RequestMirror: f.RequestMirror, ExtensionRef: f.ExtensionRef})
	}
	return out
}
