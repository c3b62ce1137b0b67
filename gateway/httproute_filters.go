package gateway

import (
	"fmt"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// ruleFilters is what a rule's filters ask for.
type ruleFilters struct {
	headers       api.HeaderManipulation
	hostRewrite   string
	fullPath      *string
	replacePrefix *string
	redirect      *api.RedirectAction
	urlRewrite    bool
	mirror        *api.Shadowing
	cors          *api.CorsPolicy
	function      string
	routeOption   *api.RouteOption
}

// functionKind is the ExtensionRef kind (group gluon.dev) that picks the
// function a gluon.dev Upstream backend is called with.
const functionKind = "Function"

// readFilters reads a rule's filters. A filter Gluon cannot apply is a
// problem: the Gateway API forbids skipping it.
func (c *gatewayAPI) readFilters(rs *routeState, rule *gwv1.HTTPRouteRule) (ruleFilters, []routeProblem) {
	var f ruleFilters
	var problems []routeProblem
	for _, filter := range rule.Filters {
		if msg := c.applyFilter(rs, &f, filter); msg != "" {
			problems = append(problems, routeProblem{gwv1.RouteReasonUnsupportedValue, msg})
		}
	}
	if f.redirect != nil && f.urlRewrite {
		problems = append(problems, routeProblem{gwv1.RouteReasonIncompatibleFilters, "URLRewrite and RequestRedirect cannot be combined"})
	}
	return f, problems
}

// applyFilter adds one filter to f, or says why it cannot.
func (c *gatewayAPI) applyFilter(rs *routeState, f *ruleFilters, filter gwv1.HTTPRouteFilter) string {
	switch {
	case filter.Type == gwv1.HTTPRouteFilterRequestHeaderModifier && filter.RequestHeaderModifier != nil:
		modifyHeaders(&f.headers.RequestHeadersToAdd, &f.headers.RequestHeadersToRemove, filter.RequestHeaderModifier)
	case filter.Type == gwv1.HTTPRouteFilterResponseHeaderModifier && filter.ResponseHeaderModifier != nil:
		modifyHeaders(&f.headers.ResponseHeadersToAdd, &f.headers.ResponseHeadersToRemove, filter.ResponseHeaderModifier)
	case filter.Type == gwv1.HTTPRouteFilterURLRewrite && filter.URLRewrite != nil:
		return f.rewrite(filter.URLRewrite)
	case filter.Type == gwv1.HTTPRouteFilterRequestRedirect && filter.RequestRedirect != nil:
		var msg string
		f.redirect, f.replacePrefix, msg = redirectAction(filter.RequestRedirect)
		return msg
	case filter.Type == gwv1.HTTPRouteFilterRequestMirror && filter.RequestMirror != nil:
		if f.mirror != nil {
			return "Gluon mirrors a rule's requests to one backend only"
		}
		f.mirror = c.mirror(rs, filter.RequestMirror)
	case filter.Type == gwv1.HTTPRouteFilterCORS && filter.CORS != nil:
		f.cors = corsFromFilter(filter.CORS)
	case filter.Type == gwv1.HTTPRouteFilterExtensionRef:
		return c.extensionRef(rs, f, filter.ExtensionRef)
	default:
		return fmt.Sprintf("filter type %s is not supported", filter.Type)
	}
	return ""
}

// extensionRef applies a Function or RouteOption ExtensionRef, or says
// why it cannot.
func (c *gatewayAPI) extensionRef(rs *routeState, f *ruleFilters, ref *gwv1.LocalObjectReference) string {
	switch {
	case ref == nil || ref.Group != api.Group || (ref.Kind != functionKind && ref.Kind != routeOptionKind):
		return "ExtensionRef: only group " + api.Group + " kinds " + functionKind + " and " + routeOptionKind + " are supported"
	case ref.Kind == functionKind:
		f.function, _ = functionName(ref)
	case f.routeOption != nil:
		return "ExtensionRef: a rule takes one RouteOption"
	default:
		var msg string
		f.routeOption, msg = c.routeOption(rs, string(ref.Name))
		return msg
	}
	return ""
}

// modifyHeaders translates a header modifier: set replaces existing
// values, add appends to them.
func modifyHeaders(add *[]api.HeaderValueOption, remove *[]string, h *gwv1.HTTPHeaderFilter) {
	for _, s := range h.Set {
		*add = append(*add, api.HeaderValueOption{Header: api.HeaderValue{Key: string(s.Name), Value: s.Value}, Append: pointerTo(false)})
	}
	for _, a := range h.Add {
		*add = append(*add, api.HeaderValueOption{Header: api.HeaderValue{Key: string(a.Name), Value: a.Value}, Append: pointerTo(true)})
	}
	*remove = append(*remove, h.Remove...)
}

func (f *ruleFilters) rewrite(u *gwv1.HTTPURLRewriteFilter) string {
	f.urlRewrite = true
	if u.Hostname != nil {
		f.hostRewrite = string(*u.Hostname)
	}
	if u.Path == nil {
		return ""
	}
	var msg string
	f.fullPath, f.replacePrefix, msg = pathModifier(u.Path)
	return msg
}

// pathModifier returns a full path or a prefix replacement.
func pathModifier(p *gwv1.HTTPPathModifier) (full, prefix *string, msg string) {
	switch {
	case p.Type == gwv1.FullPathHTTPPathModifier && p.ReplaceFullPath != nil:
		return p.ReplaceFullPath, nil, ""
	case p.Type == gwv1.PrefixMatchHTTPPathModifier && p.ReplacePrefixMatch != nil:
		return nil, p.ReplacePrefixMatch, ""
	}
	return nil, nil, fmt.Sprintf("path modifier %s is not supported", p.Type)
}

// redirectCodeNames are the redirect codes Gluon answers with, by status code.
var redirectCodeNames = map[int]string{301: "MOVED_PERMANENTLY", 302: "FOUND", 303: "SEE_OTHER", 307: "TEMPORARY_REDIRECT", 308: "PERMANENT_REDIRECT"}

// wellKnownPorts are those a redirect to another scheme gets when it names
// no port, as the Gateway API says.
var wellKnownPorts = map[string]uint32{"http": 80, "https": 443}

func redirectAction(r *gwv1.HTTPRequestRedirectFilter) (*api.RedirectAction, *string, string) {
	code := 302 // the Gateway API's default
	if r.StatusCode != nil {
		code = *r.StatusCode
	}
	a := &api.RedirectAction{ResponseCode: redirectCodeNames[code]}
	if a.ResponseCode == "" {
		return nil, nil, fmt.Sprintf("redirect status code %d is not supported", code)
	}
	if r.Hostname != nil {
		a.HostRedirect = string(*r.Hostname)
	}
	if r.Scheme != nil {
		port, ok := wellKnownPorts[*r.Scheme]
		if !ok {
			return nil, nil, fmt.Sprintf("redirect scheme %q is not supported", *r.Scheme)
		}
		// Listeners are plain HTTP: only https changes the scheme.
		a.HTTPSRedirect, a.PortRedirect = *r.Scheme == "https", port
	}
	if r.Port != nil {
		a.PortRedirect = uint32(*r.Port)
	}
	if r.Path == nil {
		return a, nil, ""
	}
	full, prefix, msg := pathModifier(r.Path)
	if full != nil {
		a.PathRedirect = *full
	}
	return a, prefix, msg
}

func functionName(ref *gwv1.LocalObjectReference) (string, bool) {
	if ref == nil || ref.Group != api.Group || ref.Kind != functionKind {
		return "", false
	}
	return string(ref.Name), true
}
