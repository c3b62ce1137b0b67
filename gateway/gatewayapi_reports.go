package gateway

import (
	"regexp"
	"strconv"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// foldReports moves what stage 1 reported on generated resources onto the
// Gateway API objects they came from, and removes those reports: users
// never wrote generated resources, and could not find them.
func (c *gatewayAPI) foldReports(reports api.Reports) {
	for key, rep := range reports {
		if c.foldReport(key.Kind, api.ResourceRef{Name: key.Name, Namespace: key.Namespace}, rep) {
			delete(reports, key)
		}
	}
}

// foldReport folds the report of a generated resource, and says whether
// the resource was one.
func (c *gatewayAPI) foldReport(kind api.Kind, ref api.ResourceRef, rep *api.Report) bool {
	switch kind {
	case api.KindVirtualService:
		origins, ok := c.gen.vsOrigins[ref]
		if ok {
			foldVirtualService(rep, origins)
		}
		return ok
	case api.KindUpstream:
		if c.gen.upstreams[ref] == nil {
			return false
		}
		for _, r := range c.gen.upstreamUsers[ref] {
			for _, reason := range rep.Reasons {
				r.notes = append(r.notes, "backend "+ref.String()+": "+reason)
			}
		}
		return true
	case api.KindGateway:
		p, ok := c.gen.gatewayPorts[ref]
		if ok && rep.State == api.Rejected {
			p.reject(strings.Join(rep.Reasons, "; "))
		}
		return ok
	}
	return false
}

// reject marks the listeners of a port whose generated Gateway could not be
// served.
func (p servedPort) reject(reason string) {
	for _, l := range p.gateway.listeners {
		if l.spec.Port == p.port {
			l.portProblem = reason
		}
	}
}

// vsRouteIndex finds the routes a virtual service's report names by index.
var vsRouteIndex = regexp.MustCompile(`\broute (\d+)\b`)

// foldVirtualService turns a generated virtual service's report reasons
// into problems (rejections) or notes (warnings) of the routes they are
// about: the first route a reason names, every route of the virtual host
// when it names none. Route indexes become the HTTPRoute matches they are.
// A report has one state for all its reasons, so a warning that comes with
// a rejection counts as a problem too.
func foldVirtualService(rep *api.Report, origins []matchOrigin) {
	origin := func(index string) (matchOrigin, bool) {
		n, err := strconv.Atoi(index)
		if err != nil || n >= len(origins) {
			return matchOrigin{}, false
		}
		return origins[n], true
	}
	for _, reason := range rep.Reasons {
		targets := distinctRoutes(origins)
		if m := vsRouteIndex.FindStringSubmatch(reason); m != nil {
			if o, ok := origin(m[1]); ok {
				targets = []*routeState{o.route}
			}
		}
		msg := vsRouteIndex.ReplaceAllStringFunc(reason, func(s string) string {
			if o, ok := origin(vsRouteIndex.FindStringSubmatch(s)[1]); ok {
				return o.String()
			}
			return s
		})
		for _, r := range targets {
			if rep.State == api.Rejected {
				r.problems = append(r.problems, routeProblem{gwv1.RouteReasonUnsupportedValue, msg})
			} else {
				r.notes = append(r.notes, msg)
			}
		}
	}
}

func distinctRoutes(origins []matchOrigin) []*routeState {
	var out []*routeState
	seen := map[*routeState]bool{}
	for _, o := range origins {
		if !seen[o.route] {
			seen[o.route] = true
			out = append(out, o.route)
		}
	}
	return out
}
