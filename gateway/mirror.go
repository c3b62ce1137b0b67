package gateway

import (
	"fmt"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// defaultShadowPercent is Gloo's: a shadowing without a percentage mirrors
// every request.
const defaultShadowPercent = 100

// mirrors resolves route i's shadowing upstream (in the virtual service's
// namespace unless the ref names one). A missing upstream costs only the
// mirror, never the route: the copy is fire and forget, so users lose
// nothing but the shadow traffic, and a warning on the virtual service says
// so. Called once per route rather than per matcher so the warning is not
// repeated.
func (t *translation) mirrors(vs *api.VirtualService, i int, r *api.Route) []ir.Mirror {
	if r.Options == nil || r.Options.Shadowing == nil {
		return nil
	}
	s := r.Options.Shadowing
	ref := s.Upstream.Ref(vs.Namespace)
	u, ok := t.upstreams[ref]
	if !ok {
		t.reports.Warn(api.KeyOf(vs), api.Problem{Code: api.UpstreamNotFound, Path: routePath(i) + ".options.shadowing.upstream",
			Message: fmt.Sprintf("shadowing upstream %s not found; requests are not mirrored", ref)})
		return nil
	}
	percent := uint32(defaultShadowPercent)
	if s.Percentage != nil {
		percent = *s.Percentage
	}
	return []ir.Mirror{{Cluster: u.cluster, Percent: percent}}
}
