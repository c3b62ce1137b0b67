package gateway

import (
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
			for _, p := range rep.Problems {
				r.notes = append(r.notes, "backend "+ref.String()+": "+p.Message)
			}
		}
		return true
	case api.KindGateway:
		p, ok := c.gen.gatewayPorts[ref]
		if ok && rep.State == api.Rejected {
			p.reject(strings.Join(messages(rep.Problems), "; "))
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

// foldVirtualService turns a generated virtual service's problems into
// problems (rejections) or notes (warnings) of the routes they are about:
// the route a problem's path names, every route of the virtual host when
// it names none. A report has one state for all its problems, so a warning
// that comes with a rejection counts as a problem too.
func foldVirtualService(rep *api.Report, origins []matchOrigin) {
	for _, p := range rep.Problems {
		targets := distinctRoutes(origins)
		msg := p.Message
		if n, ok := routeIndex(p.Path); ok && n < len(origins) {
			targets = []*routeState{origins[n].route}
			msg = origins[n].String() + ": " + msg
		}
		if n, ok := routeIndex(p.Related); ok && n < len(origins) {
			msg += " (see " + origins[n].String() + ")"
		}
		for _, r := range targets {
			if rep.State == api.Rejected {
				r.problems = append(r.problems, routeProblem{gwv1.RouteReasonUnsupportedValue, msg})
			} else {
				r.notes = append(r.notes, msg)
			}
		}
	}
}

// routeIndex reads which route of a virtual service a field path is in.
func routeIndex(path string) (int, bool) {
	const prefix = "spec.virtualHost.routes["
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil
}

func messages(problems []api.Problem) []string {
	out := make([]string, len(problems))
	for i, p := range problems {
		out[i] = p.Message
	}
	return out
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
