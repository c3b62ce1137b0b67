package gateway

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// virtualHosts translates every virtual service once.
func (t *translation) virtualHosts() map[api.ResourceRef]*ir.VirtualHost {
	out := map[api.ResourceRef]*ir.VirtualHost{}
	for _, vs := range t.res.VirtualServices {
		out[api.ResourceRef{Name: vs.Name, Namespace: vs.Namespace}] = t.virtualHost(vs)
	}
	return out
}

func (t *translation) virtualHost(vs *api.VirtualService) *ir.VirtualHost {
	spec := vs.Spec.VirtualHost
	vh := &ir.VirtualHost{Name: vs.Namespace + "_" + vs.Name, Domains: spec.Domains, Origin: originOf(vs, "spec.virtualHost")}
	if len(vh.Domains) == 0 {
		vh.Domains = []string{"*"}
	}
	if spec.Options != nil {
		vh.CORS = corsPolicy(spec.Options.Cors)
		vh.Headers = t.headerMutation(vs, "spec.virtualHost.options.headerManipulation", spec.Options.HeaderManipulation)
		var warnings []string
		vh.RateLimit, warnings = rateLimit(spec.Options.LocalRatelimit, spec.Options.Ratelimit, "")
		for _, w := range warnings {
			t.reports.Warn(api.KeyOf(vs), api.Problem{Code: api.RateLimitIgnored, Path: "spec.virtualHost.options", Message: w})
		}
	}
	n := 0
	for i := range spec.Routes {
		n += max(1, len(spec.Routes[i].Matchers))
	}
	// One allocation for all the virtual host's routes: there may be
	// thousands, and they live and die together.
	slots := make([]ir.Route, n)
	vh.Routes = make([]*ir.Route, 0, n)
	for i := range spec.Routes {
		r := &spec.Routes[i]
		m := max(1, len(r.Matchers))
		vh.Routes = t.appendRoute(vh.Routes, vs, i, r, slots[:m:m])
		slots = slots[m:]
	}
	t.reports.Warn(api.KeyOf(vs), ShadowWarnings(spec.Routes)...)
	var err error
	if vh.JWTProviders, err = t.jwtProviders(vs, vh.Name); err != nil {
		t.failClosed(vs, vh, err)
	}
	return vh
}

// failClosed answers every route of a virtual host with the invalid-route
// response: its authentication cannot be built, and it must not serve
// unauthenticated instead.
func (t *translation) failClosed(vs *api.VirtualService, vh *ir.VirtualHost, err error) {
	problems := api.ProblemsOf(err, api.InvalidAuth, "")
	for j := range problems {
		problems[j].Message += "; every route answers " + fmt.Sprint(t.policy.Status)
	}
	t.reports.Reject(api.KeyOf(vs), problems...)
	for _, r := range vh.Routes {
		*r = ir.Route{Name: r.Name, Origin: r.Origin, Match: r.Match, DirectResponse: t.invalidRoute(err.Error())}
	}
	vh.JWTProviders = nil
}

// appendRoute turns route r (route i of a virtual service, or a route
// made for it) into one IR route per matcher, as Envoy has one match per
// route; matcher j's is built in slots[j]. The matchers share the route's
// action, built (and its problems reported) once; nothing changes an
// action once built. Its origin names the matcher. An MCP route's tools'
// routes go before it.
func (t *translation) appendRoute(out []*ir.Route, vs *api.VirtualService, i int, r *api.Route, slots []ir.Route) []*ir.Route {
	matchers := r.Matchers
	if len(matchers) == 0 {
		matchers = []api.Matcher{{Prefix: "/"}}
	}
	first := &slots[0]
	mirrors := t.mirrors(vs, i, r)
	out = append(out, t.action(vs, i, r, first)...)
	if first.Forward != nil {
		first.Forward.Mirrors = mirrors
	}
	if err := t.routeAuth(vs, r, first); err != nil {
		*first = ir.Route{} // no action runs unauthenticated
		t.answerInvalid(t.reports.Reject, api.KeyOf(vs), i, first, err, api.InvalidAuth)
	}
	if r.Options != nil {
		first.CORS = corsPolicy(r.Options.Cors)
		first.Fault = fault(r.Options.Faults)
		first.Buffer = routeBuffer(r.Options.BufferPerRoute)
		first.WebSockets = r.Options.WebSockets()
		first.IdleTimeout = optDuration(r.Options.IdleTimeout)
	}
	for j := range matchers {
		route := &slots[j]
		if j > 0 {
			*route = *first
		}
		var field string
		route.Name, field = routeNameAndField(vs, r, i, j)
		route.Match = match(&matchers[j])
		route.Origin = ir.Origin{Kind: string(api.KindVirtualService), Namespace: vs.Namespace, Name: vs.Name, Field: field}
		out = append(out, route)
	}
	return out
}

// RouteName is the name of the proxy route of matcher j of a virtual
// service's route i: what Envoy's per-route statistics are named by.
func RouteName(vs *api.VirtualService, i, j int) string {
	name, _ := routeNameAndField(vs, &vs.Spec.VirtualHost.Routes[i], i, j)
	return name
}

// routeNameAndField are the name of matcher j of route i (the route's own
// name, or one made from the virtual service's) and its field path
// (spec.virtualHost.routes[i].matchers[j]), built in one allocation: there
// may be thousands of routes per push.
func routeNameAndField(vs *api.VirtualService, r *api.Route, i, j int) (string, string) {
	var buf [192]byte
	b := buf[:0]
	if r.Name != "" {
		b = append(b, r.Name...)
	} else {
		b = append(append(append(b, vs.Namespace...), '_'), vs.Name...)
		b = strconv.AppendInt(append(b, "-route-"...), int64(i), 10)
	}
	b = strconv.AppendInt(append(b, "-matcher-"...), int64(j), 10)
	n := len(b)
	b = strconv.AppendInt(append(b, "spec.virtualHost.routes["...), int64(i), 10)
	b = strconv.AppendInt(append(b, "].matchers["...), int64(j), 10)
	s := string(append(b, ']'))
	return s[:n], s[n:]
}

// action builds route i's action into route; an MCP route returns its
// tools' routes.
func (t *translation) action(vs *api.VirtualService, i int, r *api.Route, route *ir.Route) []*ir.Route {
	switch {
	case r.RouteAction != nil && r.RouteAction.MCP != nil:
		tools := t.mcpServer(vs, i, r, route)
		t.routeOptions(vs, i, r, route)
		return tools
	case r.RedirectAction != nil:
		route.Redirect = redirect(r.RedirectAction)
	case r.DirectResponseAction != nil:
		route.DirectResponse = &ir.DirectResponse{Status: r.DirectResponseAction.Status, Body: r.DirectResponseAction.Body}
	case r.RouteAction != nil:
		key := api.KeyOf(vs)
		dests, missing := t.destinations(vs.Namespace, r.RouteAction)
		if len(missing) > 0 {
			err := api.Errorf(api.UpstreamNotFound, "routeAction", "upstream %s not found", strings.Join(missing, ", "))
			t.answerInvalid(t.reports.Warn, key, i, route, err, api.UpstreamNotFound)
			return nil
		}
		tr, warnings, err := t.routeTransformation(vs.Namespace, r)
		t.warnRoute(key, i, api.InvalidDestination, warnings)
		if err != nil {
			t.answerInvalid(t.reports.Reject, key, i, route, err, api.InvalidTemplate)
			return nil
		}
		lambda, err := t.routeLambda(vs.Namespace, r)
		if err != nil {
			t.answerInvalid(t.reports.Warn, key, i, route, err, api.InvalidDestination)
			return nil
		}
		azure, azureWarnings, err := t.routeAzure(vs.Namespace, r)
		t.warnRoute(key, i, api.InvalidDestination, azureWarnings)
		if err != nil {
			t.answerInvalid(t.reports.Warn, key, i, route, err, api.InvalidDestination)
			return nil
		}
		grpc, err := t.routeGRPC(vs.Namespace, r)
		if err != nil {
			t.answerInvalid(t.reports.Warn, key, i, route, err, api.InvalidDestination)
			return nil
		}
		route.Forward = forward(dests, r.Options)
		route.GRPC = grpc
		route.Forward.GRPCTimeoutHeaderMax = t.grpcTimeoutHeaderMax(vs.Namespace, r)
		route.Transformation = tr
		route.Lambda = lambda
		route.Azure = azure
		t.routeOptions(vs, i, r, route)
	}
	return nil
}

// routeOptions sets what a routeAction's options say of the route itself:
// header changes and rate limits.
func (t *translation) routeOptions(vs *api.VirtualService, i int, r *api.Route, route *ir.Route) {
	if r.Options == nil {
		return
	}
	route.Headers = t.headerMutation(vs, routePath(i)+".options.headerManipulation", r.Options.HeaderManipulation)
	var warnings []string
	route.RateLimit, warnings = rateLimit(r.Options.LocalRatelimit, r.Options.Ratelimit, routeFunction(vs.Namespace, r))
	t.warnRoute(api.KeyOf(vs), i, api.RateLimitIgnored, warnings)
}

// answerInvalid makes route i answer the invalid-route response and
// reports why through report (Warn or Reject), at the route's path with
// err's code (else fallback), naming the status it answers.
func (t *translation) answerInvalid(report func(api.Key, ...api.Problem), key api.Key, i int, route *ir.Route, err error, fallback api.Code) {
	problems := api.ProblemsOf(err, fallback, routePath(i))
	for j := range problems {
		problems[j].Message += "; the route answers " + fmt.Sprint(t.policy.Status)
	}
	report(key, problems...)
	route.DirectResponse = t.invalidRoute(fmt.Sprintf("route %d: %v", i, err))
}

// warnRoute reports the warnings of route i, with code.
func (t *translation) warnRoute(key api.Key, i int, code api.Code, warnings []string) {
	for _, w := range warnings {
		t.reports.Warn(key, api.Problem{Code: code, Path: routePath(i), Message: w})
	}
}

// routePath is the field path of route i of a virtual service.
func routePath(i int) string { return "spec.virtualHost.routes[" + strconv.Itoa(i) + "]" }

// originOf names field of object o as the origin of an IR element.
func originOf(o api.Object, field string) ir.Origin {
	return ir.Origin{Kind: string(o.ResourceKind()), Namespace: o.GetNamespace(), Name: o.GetName(), Field: field}
}

func (t *translation) invalidRoute(msg string) *ir.DirectResponse {
	d := t.policy
	if d.Body == "" {
		d.Body = "Gluon: invalid route: " + msg + "\n"
	}
	return &d
}

func (t *translation) destinations(ns string, a *api.RouteAction) ([]ir.Destination, []string) {
	in := weightedDestinations(a)
	out := make([]ir.Destination, 0, len(in))
	var missing []string
	for _, d := range in {
		ref := d.Destination.Upstream.Ref(ns)
		u, ok := t.upstreams[ref]
		if !ok {
			missing = append(missing, ref.String())
			continue
		}
		out = append(out, ir.Destination{Cluster: u.cluster, Weight: d.Weight})
	}
	return out, missing
}

// weightedDestinations are a route action's destinations: its single one
// (weight 1), or its split.
func weightedDestinations(a *api.RouteAction) []api.WeightedDestination {
	if a.Single != nil {
		return []api.WeightedDestination{{Destination: *a.Single, Weight: 1}}
	}
	return a.Multi.Destinations
}

func match(m *api.Matcher) ir.Match {
	out := ir.Match{PathPrefix: m.Prefix, PathExact: m.Exact, PathRegex: m.Regex, Methods: m.Methods}
	if out.PathPrefix == "" && out.PathExact == "" && out.PathRegex == "" {
		out.PathPrefix = "/"
	}
	out.CaseInsensitive = m.CaseSensitive != nil && !*m.CaseSensitive
	for _, h := range m.Headers {
		hm := ir.HeaderMatch{Name: strings.ToLower(h.Name), Invert: h.InvertMatch}
		if h.Regex {
			hm.Regex = h.Value
		} else {
			hm.Exact = h.Value
		}
		out.Headers = append(out.Headers, hm)
	}
	for _, q := range m.QueryParameters {
		qm := ir.QueryMatch{Name: q.Name}
		if q.Regex {
			qm.Regex = q.Value
		} else {
			qm.Exact = q.Value
		}
		out.QueryParams = append(out.QueryParams, qm)
	}
	return out
}

var redirectCodes = map[string]uint32{"": 301, "MOVED_PERMANENTLY": 301, "FOUND": 302, "SEE_OTHER": 303, "TEMPORARY_REDIRECT": 307, "PERMANENT_REDIRECT": 308}

func redirect(r *api.RedirectAction) *ir.Redirect {
	out := &ir.Redirect{
		Host:          r.HostRedirect,
		Port:          r.PortRedirect,
		Path:          r.PathRedirect,
		PrefixRewrite: r.PrefixRewrite,
		StripQuery:    r.StripQuery,
		Code:          redirectCodes[r.ResponseCode],
	}
	if r.HTTPSRedirect {
		out.Scheme = "https"
	}
	return out
}

// routeLambda resolves a route's aws destination, if it has one.
func (t *translation) routeLambda(ns string, r *api.Route) (*ir.LambdaInvoke, error) {
	single := r.RouteAction.Single
	if single == nil || single.DestinationSpec == nil || single.DestinationSpec.AWS == nil {
		return nil, nil
	}
	return t.lambdaInvoke(single.Upstream.Ref(ns), single.DestinationSpec.AWS, t.awsCreds)
}

// routeAzure resolves a route's azure destination, if it has one.
func (t *translation) routeAzure(ns string, r *api.Route) (*ir.AzureInvoke, []string, error) {
	single := r.RouteAction.Single
	if single == nil || single.DestinationSpec == nil || single.DestinationSpec.Azure == nil {
		return nil, nil, nil
	}
	return t.azureInvoke(single.Upstream.Ref(ns), single.DestinationSpec.Azure)
}
