package dataplane

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gluon-gateway/gluon/dataplane/internal/downstream"
)

// hcm is one listener's HTTP connection manager under one config: it
// matches the route, then runs the HTTP filter chain, which ends with the
// router. All its fields are immutable.
type hcm struct {
	lc     *listenerConfig
	routes *routeTable
	chain  handler
	stats  *httpStats
	tracer *tracer // nil: no tracing
	// routeStats are the statistics of the routes with a stat prefix, by
	// route number (nil for the others; nil with statistics off).
	routeStats []*routeStats
}

// routeMatch is what Envoy caches when it starts decoding a request: the
// route selected on the request as received. Filters read their per-route
// config from it and the router acts on it.
type routeMatch struct {
	vh    *virtualHost // nil when no virtual host matches
	route *compiledRoute
	// target is the request's :path (path?query, undecoded). Filters may
	// change it; the router then rewrites and forwards the changed value.
	target string
	// offers are the compressors the request accepts; the best compresses.
	offers []encodingOffer
	// bufferLimit bounds the bodies filters buffer (0: each its own
	// default): the listener's per-connection limit, or a buffer filter's.
	bufferLimit int
	// stats are the connection manager's; sw counts the response's status
	// into them (held here: one allocation per request less).
	stats *httpStats
	sw    statusWriter
	// What the access log tells of the request: its target as received,
	// Envoy's response flags, the upstream cluster and host it went to.
	received     string
	flags        string
	cluster      string
	upstreamHost string
	// trace is a sampled request's trace; nil for any other request.
	trace *requestTrace
	// hcm is the connection manager serving the request: filters that send
	// requests of their own through the listener (MCP tool calls) use it.
	hcm *hcm
}

func newHCM(lc *listenerConfig, b *boundFilters, clusters map[string]*upstreamCluster, mirrors *mirrorer, log *slog.Logger, st *httpStats, t *tracer) *hcm {
	rt := &router{lc: lc, routes: b.routes, clusters: clusters, mirrors: mirrors, log: log}
	chain := handler(rt.serve)
	for i := len(b.middlewares) - 1; i >= 0; i-- {
		chain = b.middlewares[i](chain, clusters)
	}
	return &hcm{lc: lc, routes: b.routes, chain: chain, stats: st, tracer: t, routeStats: st.routes(b.routes)}
}

// ServeHTTP matches the route once, before any HTTP filter runs, as Envoy
// does. A filter that changes :path, :method, :authority or headers does not
// re-route the request: Envoy matches again only when a filter clears the
// route cache, which Gluon's plugins do not do. The router's own rewrites
// (prefix_rewrite, host rewrite, header mutations) then apply to the request
// as the filters left it.
func (h *hcm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Host == "" && r.ProtoMajor >= 2 {
		// HTTP/2 names the host in :authority (RFC 9113 §8.3.1); routing
		// and upstreams need one, and Envoy refuses such a request too.
		localReply(w, http.StatusBadRequest, "missing :authority")
		return
	}
	if h.lc.stripPort {
		r.Host = stripPort(r.Host)
	}
	var start time.Time
	if len(h.lc.accessLogs) > 0 || h.routeStats != nil {
		start = time.Now()
	}
	received := requestTarget(r)
	target := h.lc.normalize.normalizeTarget(received)
	vh, cr := h.routes.match(r, r.Host, target, pathOf(target))
	idle := h.lc.streamIdle
	if cr != nil && cr.forward != nil && cr.forward.idleTimeout > 0 {
		idle = cr.forward.idleTimeout // the route's idle_timeout replaces the listener's
	}
	downstream.LimitRequestBody(w, r, idle, h.lc.requestTimeout)
	m := &routeMatch{vh: vh, route: cr, target: target, bufferLimit: h.lc.bufferLimit, stats: h.stats, received: received, hcm: h}
	m.sw.ResponseWriter = w
	m.sw.grpc.on = isGRPC(r)
	if h.tracer != nil {
		m.trace = h.lc.tracing.startTrace(h.tracer, r, spanName(cr))
	}
	h.chain(&m.sw, r, m)
	if m.trace != nil {
		m.trace.end(m)
	}
	h.stats.response(m.sw.status())
	if cr != nil && h.routeStats != nil {
		h.routeStats[cr.idx].response(m.sw.status(), start)
	}
	if len(h.lc.accessLogs) > 0 {
		h.logRequest(r, m, start)
	}
}

// spanName names a request's server span after its route, as Envoy's
// decorator does; requests that match no named route are "ingress".
func spanName(cr *compiledRoute) string {
	if cr == nil || cr.name == "" {
		return "ingress"
	}
	return cr.name
}

// pathOf is the path part of a request target.
func pathOf(target string) string {
	if i := strings.IndexByte(target, '?'); i >= 0 {
		return target[:i]
	}
	return target
}
