package dataplane

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/dataplane/internal/upstream"
)

// mirrorPolicy is a compiled RequestMirrorPolicy.
type mirrorPolicy struct {
	cluster  string
	share    percent
	keepHost bool // disable_shadow_host_suffix_append
}

// compileMirrorPolicies accepts what the data plane honours: a named cluster,
// a runtime fraction (its default value; there is no runtime) and the host
// suffix switch. cluster_header, trace_sampled, header mutations and host
// rewrites of the mirror are NACKed by onlyFields.
func compileMirrorPolicies(ps []*route.RouteAction_RequestMirrorPolicy) ([]mirrorPolicy, error) {
	var out []mirrorPolicy
	for i, p := range ps {
		if err := onlyFields(p, "cluster", "runtime_fraction", "disable_shadow_host_suffix_append"); err != nil {
			return nil, fmt.Errorf("request_mirror_policies[%d]: %w", i, err)
		}
		if p.GetCluster() == "" {
			return nil, fmt.Errorf("request_mirror_policies[%d]: cluster is required", i)
		}
		mp := mirrorPolicy{cluster: p.GetCluster(), keepHost: p.GetDisableShadowHostSuffixAppend(), share: percent{num: 1, den: 1}}
		if rf := p.GetRuntimeFraction(); rf != nil { // absent: every request, as in Envoy
			var err error
			if mp.share, err = compilePercent(rf); err != nil {
				return nil, fmt.Errorf("request_mirror_policies[%d].runtime_fraction: %w", i, err)
			}
		}
		out = append(out, mp)
	}
	return out, nil
}

// sampleMirrors draws, per policy, whether this request is mirrored. It
// returns nil, without allocating, when none is.
func (a *forwardAction) sampleMirrors() []*mirrorPolicy {
	var chosen []*mirrorPolicy
	for i := range a.mirrors {
		if a.mirrors[i].share.sample() {
			chosen = append(chosen, &a.mirrors[i])
		}
	}
	return chosen
}

// shadowHost appends "-shadow" to the host before any port, as Envoy does so
// that the mirror's logs tell copies from real traffic.
func shadowHost(host string) string {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.LastIndexByte(host, ']') > i {
		return host + "-shadow"
	}
	return host[:i] + "-shadow" + host[i:]
}

// mirror starts the chosen mirrors of a request about to be sent to its
// primary endpoint, with the primary's target and host: Envoy mirrors the
// request as it goes upstream. It never blocks. The request is cloned here
// because response filters may change its headers once the router returns.
func (rt *router) mirror(r *http.Request, chosen []*mirrorPolicy, body upstream.Body, target, host string, deadline time.Time) {
	m := rt.mirrors
	if !body.Replayable() {
		// A body over the buffer limit was streamed to the primary and cannot
		// be read again; Envoy gives up shadowing such a request too.
		m.dropped.Add(uint64(len(chosen)))
		return
	}
	if deadline.IsZero() {
		// Envoy's mirror shares the route's deadline, none when its timeout
		// is disabled; here a mirror always ends, so that it cannot hold
		// its slot forever.
		deadline = time.Now().Add(defaultRouteTimeout)
	}
	for _, p := range chosen {
		if !m.acquire() {
			m.dropped.Add(1)
			continue
		}
		m.sent.Add(1)
		mr := r.Clone(m.ctx)
		mr.Body = nil // the body is body's buffer, shared read-only with the primary
		h := host
		if !p.keepHost {
			h = shadowHost(host)
		}
		go m.run(rt.clusters[p.cluster], p.cluster, mr, body, target, h, deadline)
	}
}
