package dataplane

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// routeTable is a compiled RouteConfiguration. It is immutable once built, so
// requests read it without locks.
type routeTable struct {
	name        string
	hosts       vhostIndex
	ignorePort  bool // ignore_port_in_host_matching
	reqHeaders  *headerMutation
	respHeaders *headerMutation
	clusters    []string // every cluster a route may send to, mirrors included
	vhosts      []*virtualHost
	nroutes     int                           // routes are numbered 0..nroutes-1 (compiledRoute.idx)
	plugins     map[string]*filterRouteConfig // typed_per_filter_config, by filter name
}

type virtualHost struct {
	name        string
	routes      []*compiledRoute
	reqHeaders  *headerMutation
	respHeaders *headerMutation
	plugins     map[string]*filterRouteConfig // typed_per_filter_config, by filter name
	rateLimits  []*rateLimitPolicy            // for the ratelimit filter
}

// compiledRoute is one route: match criteria plus exactly one action.
type compiledRoute struct {
	name string
	// statPrefix, when set, counts the route's requests (Envoy's
	// vhost.<vh>.route.<prefix>.*).
	statPrefix string
	// idx numbers the route within its table: filters bound to the table
	// keep their per-route state in slices indexed by it.
	idx         int
	path        pathMatcher
	headers     []headerMatcher
	query       []queryMatcher
	reqHeaders  *headerMutation
	respHeaders *headerMutation
	forward     *forwardAction
	redirect    *redirectAction
	direct      *directResponse
	// plugins are the per-route filter configs in effect on this route,
	// resolved over the route, its virtual host and the table.
	plugins map[string]*filterRouteConfig
}

// match finds the virtual host and the first matching route; either may be nil.
// target is the undecoded request target (path?query) and path its path part.
func (t *routeTable) match(r *http.Request, host, target, path string) (*virtualHost, *compiledRoute) {
	if t.ignorePort {
		host = stripPort(host)
	}
	vh := t.hosts.find(host)
	if vh == nil {
		return nil, nil
	}
	query := ""
	if len(path) < len(target) {
		query = target[len(path)+1:]
	}
	for _, rt := range vh.routes {
		if rt.matches(r, target, path, query) {
			return vh, rt
		}
	}
	return vh, nil
}

func (rt *compiledRoute) matches(r *http.Request, target, path, query string) bool {
	if !rt.path.match(target, path) {
		return false
	}
	for i := range rt.headers {
		if !rt.headers[i].match(r, target) {
			return false
		}
	}
	for i := range rt.query {
		if !rt.query[i].match(query) {
			return false
		}
	}
	return true
}

// compileRouteConfig compiles a route configuration; ext are the filters
// whose per-route configs it may carry.
func compileRouteConfig(rc *route.RouteConfiguration, ext *extensions) (*routeTable, error) {
	if err := onlyFields(rc, "name", "virtual_hosts", "request_headers_to_add", "request_headers_to_remove",
		"response_headers_to_add", "response_headers_to_remove", "validate_clusters", "ignore_port_in_host_matching",
		"typed_per_filter_config"); err != nil {
		return nil, err
	}
	t := &routeTable{name: rc.GetName(), ignorePort: rc.GetIgnorePortInHostMatching()}
	var err error
	if t.plugins, err = compilePerFilterConfig(rc.GetTypedPerFilterConfig(), ext); err != nil {
		return nil, err
	}
	if t.reqHeaders, err = compileHeaderMutation(rc.GetRequestHeadersToAdd(), rc.GetRequestHeadersToRemove()); err != nil {
		return nil, fmt.Errorf("request headers: %w", err)
	}
	if t.respHeaders, err = compileHeaderMutation(rc.GetResponseHeadersToAdd(), rc.GetResponseHeadersToRemove()); err != nil {
		return nil, fmt.Errorf("response headers: %w", err)
	}
	for _, v := range rc.GetVirtualHosts() {
		vh, err := compileVirtualHost(v, ext)
		if err != nil {
			return nil, fmt.Errorf("virtual host %q: %w", v.GetName(), err)
		}
		t.vhosts = append(t.vhosts, vh)
		for _, d := range v.GetDomains() {
			if err := t.hosts.add(d, vh); err != nil {
				return nil, err
			}
		}
		for _, cr := range vh.routes {
			t.addClusters(cr.forward)
			cr.idx = t.nroutes
			t.nroutes++
			cr.plugins = mergeFilterConfigs(t.plugins, vh.plugins, cr.plugins)
		}
	}
	return t, nil
}

func (t *routeTable) addClusters(a *forwardAction) {
	if a == nil {
		return
	}
	names := []string{a.cluster}
	if a.weighted != nil {
		names = names[:0]
		for _, wc := range a.weighted {
			names = append(names, wc.name)
		}
	}
	for _, m := range a.mirrors {
		names = append(names, m.cluster)
	}
	for _, n := range names {
		if !slices.Contains(t.clusters, n) {
			t.clusters = append(t.clusters, n)
		}
	}
}

func compileVirtualHost(v *route.VirtualHost, ext *extensions) (*virtualHost, error) {
	if err := onlyFields(v, "name", "domains", "routes", "request_headers_to_add", "request_headers_to_remove",
		"response_headers_to_add", "response_headers_to_remove", "typed_per_filter_config", "rate_limits"); err != nil {
		return nil, err
	}
	vh := &virtualHost{name: v.GetName()}
	var err error
	if vh.rateLimits, err = compileRateLimits(v.GetRateLimits()); err != nil {
		return nil, err
	}
	if vh.plugins, err = compilePerFilterConfig(v.GetTypedPerFilterConfig(), ext); err != nil {
		return nil, err
	}
	if vh.reqHeaders, err = compileHeaderMutation(v.GetRequestHeadersToAdd(), v.GetRequestHeadersToRemove()); err != nil {
		return nil, fmt.Errorf("request headers: %w", err)
	}
	if vh.respHeaders, err = compileHeaderMutation(v.GetResponseHeadersToAdd(), v.GetResponseHeadersToRemove()); err != nil {
		return nil, fmt.Errorf("response headers: %w", err)
	}
	for i, r := range v.GetRoutes() {
		cr, err := compileRoute(r, ext)
		if err != nil {
			return nil, fmt.Errorf("route %d (%q): %w", i, r.GetName(), err)
		}
		vh.routes = append(vh.routes, cr)
	}
	return vh, nil
}

// compileRoute leaves cr.plugins holding the route's own per-route configs;
// compileRouteConfig then resolves them over the less specific levels.
func compileRoute(r *route.Route, ext *extensions) (*compiledRoute, error) {
	if err := onlyFields(r, "name", "match", "route", "redirect", "direct_response", "metadata",
		"request_headers_to_add", "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove",
		"typed_per_filter_config", "stat_prefix"); err != nil {
		return nil, err
	}
	cr := &compiledRoute{name: r.GetName(), statPrefix: r.GetStatPrefix()}
	if err := cr.compileMatch(r.GetMatch()); err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	var err error
	if cr.plugins, err = compilePerFilterConfig(r.GetTypedPerFilterConfig(), ext); err != nil {
		return nil, err
	}
	if cr.reqHeaders, err = compileHeaderMutation(r.GetRequestHeadersToAdd(), r.GetRequestHeadersToRemove()); err != nil {
		return nil, fmt.Errorf("request headers: %w", err)
	}
	if cr.respHeaders, err = compileHeaderMutation(r.GetResponseHeadersToAdd(), r.GetResponseHeadersToRemove()); err != nil {
		return nil, fmt.Errorf("response headers: %w", err)
	}
	switch a := r.GetAction().(type) {
	case *route.Route_Route:
		cr.forward, err = compileForwardAction(a.Route, &cr.path)
	case *route.Route_Redirect:
		cr.redirect, err = compileRedirect(a.Redirect, &cr.path)
	case *route.Route_DirectResponse:
		cr.direct, err = compileDirectResponse(a.DirectResponse)
	default:
		err = errors.New("no supported action (route, redirect or direct_response)")
	}
	if err != nil {
		return nil, err
	}
	return cr, nil
}

func (cr *compiledRoute) compileMatch(m *route.RouteMatch) error {
	if m == nil {
		return errors.New("missing")
	}
	if err := onlyFields(m, "prefix", "path", "safe_regex", "case_sensitive", "headers", "query_parameters"); err != nil {
		return err
	}
	cr.path.caseSensitive = m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()
	switch p := m.GetPathSpecifier().(type) {
	case *route.RouteMatch_Prefix:
		cr.path.kind, cr.path.value = pathPrefix, p.Prefix
	case *route.RouteMatch_Path:
		cr.path.kind, cr.path.value = pathExact, p.Path
	case *route.RouteMatch_SafeRegex:
		re, err := compileFullRegex(p.SafeRegex)
		if err != nil {
			return err
		}
		cr.path.kind, cr.path.re = pathRegex, re
	default:
		return errors.New("no supported path specifier (prefix, path or safe_regex)")
	}
	for _, h := range m.GetHeaders() {
		hm, err := compileHeaderMatcher(h)
		if err != nil {
			return err
		}
		cr.headers = append(cr.headers, hm)
	}
	for _, q := range m.GetQueryParameters() {
		qm, err := compileQueryMatcher(q)
		if err != nil {
			return err
		}
		cr.query = append(cr.query, qm)
	}
	return nil
}
