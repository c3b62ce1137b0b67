package dataplane

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rlconfv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	rateLimitType = "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit"
	// defaultRateLimitTimeout is Envoy's timeout for the rate limit service call.
	defaultRateLimitTimeout = 20 * time.Millisecond
)

func rateLimitFilterDef(log *slog.Logger) httpFilterDef {
	return httpFilterDef{name: wellknown.HTTPRateLimit, typeURL: rateLimitType, compile: func(_ string, cfg *anypb.Any) (httpFilter, error) {
		return compileRateLimitFilter(cfg, log)
	}}
}

// rateLimitFilter is envoy.filters.http.ratelimit on one listener: it asks
// a rate limit service (gRPC, through a cluster) about the descriptors the
// route's rate_limits produce.
type rateLimitFilter struct {
	log             *slog.Logger
	domain          string
	stage           uint32
	timeout         time.Duration
	failureModeDeny bool
	cluster         string
	xRateLimitHdrs  bool
	limitedStatus   int
}

func compileRateLimitFilter(cfg *anypb.Any, log *slog.Logger) (httpFilter, error) {
	if cfg == nil {
		return nil, errors.New("typed_config is required")
	}
	c := &ratelimitv3.RateLimit{}
	if err := decodeAny(cfg, c); err != nil {
		return nil, err
	}
	if err := onlyFields(c, "domain", "stage", "request_type", "timeout", "failure_mode_deny",
		"rate_limit_service", "enable_x_ratelimit_headers", "rate_limited_status", "stat_prefix"); err != nil {
		return nil, err
	}
	// "internal" and "external" depend on x-envoy-internal, which this data
	// plane does not compute.
	if rt := c.GetRequestType(); rt != "" && rt != "both" {
		return nil, fmt.Errorf("request_type %q is not supported (only both)", rt)
	}
	f := &rateLimitFilter{
		log: log, domain: c.GetDomain(), stage: c.GetStage(), timeout: defaultRateLimitTimeout,
		failureModeDeny: c.GetFailureModeDeny(), limitedStatus: http.StatusTooManyRequests,
		xRateLimitHdrs: c.GetEnableXRatelimitHeaders() == ratelimitv3.RateLimit_DRAFT_VERSION_03,
	}
	if c.GetTimeout() != nil {
		d, err := duration(c.GetTimeout())
		if err != nil {
			return nil, fmt.Errorf("timeout: %w", err)
		}
		f.timeout = d
	}
	if code := int(c.GetRateLimitedStatus().GetCode()); code >= 400 { // Envoy answers 429 for lower codes
		f.limitedStatus = code
	}
	var err error
	if f.cluster, err = rateLimitServiceCluster(c.GetRateLimitService()); err != nil {
		return nil, fmt.Errorf("rate_limit_service: %w", err)
	}
	return f, nil
}

// rateLimitServiceCluster accepts an Envoy gRPC service naming a cluster.
// As in Envoy the cluster is resolved per request: one that does not exist
// (yet) makes the call fail, and failure_mode_deny decides.
func rateLimitServiceCluster(rls *rlconfv3.RateLimitServiceConfig) (string, error) {
	if err := onlyFields(rls, "grpc_service", "transport_api_version"); err != nil {
		return "", err
	}
	if rls.GetTransportApiVersion() != core.ApiVersion_V3 {
		return "", fmt.Errorf("transport_api_version %v is not supported (only V3)", rls.GetTransportApiVersion())
	}
	gs := rls.GetGrpcService()
	if err := onlyFields(gs, "envoy_grpc"); err != nil {
		return "", fmt.Errorf("grpc_service: %w", err)
	}
	if err := onlyFields(gs.GetEnvoyGrpc(), "cluster_name"); err != nil {
		return "", fmt.Errorf("grpc_service.envoy_grpc: %w", err)
	}
	return gs.GetEnvoyGrpc().GetClusterName(), nil
}

// withRoutes picks each route's rate limits at the filter's stage. Only
// routes that forward have them. A virtual host's apply too when the route
// sets include_vh_rate_limits, or when it has no rate limits of its own.
func (f *rateLimitFilter) withRoutes(rt *routeTable) (middleware, error) {
	policies := make([][]*rateLimitPolicy, rt.nroutes)
	for _, vh := range rt.vhosts {
		for _, cr := range vh.routes {
			a := cr.forward
			if a == nil {
				continue
			}
			ps := f.atStage(nil, a.rateLimits)
			if a.includeVHRateLimits || len(a.rateLimits) == 0 {
				ps = f.atStage(ps, vh.rateLimits)
			}
			policies[cr.idx] = ps
		}
	}
	return func(next handler, clusters map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			if m.route == nil || len(policies[m.route.idx]) == 0 {
				next(w, r, m)
				return
			}
			descs := populateDescriptors(policies[m.route.idx], r, m.target)
			if len(descs) == 0 {
				next(w, r, m) // no descriptor, no call
				return
			}
			ctx := r.Context()
			var span trace.Span
			if m.trace != nil {
				ctx, span = m.trace.rateLimitCall(ctx, f.cluster, f.domain)
			}
			resp, err := shouldRateLimit(ctx, clusters[f.cluster], f.timeout, f.domain, descs)
			if span != nil {
				endRateLimitCall(span, resp, err)
			}
			if err != nil {
				f.failed(w, r, m, next, err)
				return
			}
			f.answered(w, r, m, next, resp, clusters)
		}
	}, nil
}

func (f *rateLimitFilter) atStage(dst, ps []*rateLimitPolicy) []*rateLimitPolicy {
	for _, p := range ps {
		if p.stage == f.stage {
			dst = append(dst, p)
		}
	}
	return dst
}

// failed applies failure_mode_deny to a service error or timeout.
func (f *rateLimitFilter) failed(w http.ResponseWriter, r *http.Request, m *routeMatch, next handler, err error) {
	f.log.Debug("rate limit service call failed", "cluster", f.cluster, "deny", f.failureModeDeny, "error", err)
	if f.failureModeDeny {
		localReply(w, http.StatusInternalServerError, "")
		return
	}
	next(w, r, m)
}

// answered acts on the service's answer: OVER_LIMIT gets the local reply,
// anything else proceeds with the headers the service asked for.
func (f *rateLimitFilter) answered(w http.ResponseWriter, r *http.Request, m *routeMatch, next handler, resp *rlsv3.RateLimitResponse,
	clusters map[string]*upstreamCluster) {
	add := http.Header{}
	for _, hv := range resp.GetResponseHeadersToAdd() {
		add.Add(hv.GetKey(), hv.GetValue())
	}
	if f.xRateLimitHdrs {
		addXRateLimitFromStatuses(add, resp.GetStatuses())
	}
	if resp.GetOverallCode() == rlsv3.RateLimitResponse_OVER_LIMIT {
		if a := m.route.forward; a != nil && clusters[a.cluster] != nil {
			clusters[a.cluster].stats.overLimited() // Envoy counts it on the route's cluster
		}
		add["X-Envoy-Ratelimited"] = []string{"true"}
		m.flags = "RL"
		f.limitedReply(w, add, resp.GetRawBody())
		return
	}
	for _, hv := range resp.GetRequestHeadersToAdd() {
		r.Header.Add(hv.GetKey(), hv.GetValue())
	}
	if len(add) > 0 {
		w = &encodeHeadersWriter{ResponseWriter: w, before: func(h http.Header) { appendHeaders(h, add) }}
	}
	next(w, r, m)
}

// limitedReply is Envoy's local reply for an over-limit request: the
// service's body, typed by the service's content-type when it sends one.
func (f *rateLimitFilter) limitedReply(w http.ResponseWriter, add http.Header, body []byte) {
	h := w.Header()
	if len(body) > 0 && len(add["Content-Type"]) == 0 {
		h["Content-Type"] = textPlain
	}
	appendHeaders(h, add)
	if len(body) > 0 {
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(f.limitedStatus)
	_, _ = w.Write(body)
}

func appendHeaders(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append(dst[k], vs...)
	}
}
