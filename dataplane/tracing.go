package dataplane

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"

	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

// openTelemetryTracer is Envoy's OpenTelemetry tracer, the one Gluon emits.
const openTelemetryTracer = "envoy.tracers.opentelemetry"

// tracingConfig is a connection manager's tracing: the collector its spans
// go to, as the cluster that reaches it, and which requests are sampled.
type tracingConfig struct {
	key tracerKey
	// Envoy's three percentages, as fractions: random applies to requests
	// that come without a sampling decision, client to those that carry
	// x-client-trace-id, and overall bounds both.
	random, client, overall float64
}

// tracerKey names an exporter: its collector cluster and the service name
// its spans carry.
type tracerKey struct{ cluster, service string }

func compileTracing(t *hcmv3.HttpConnectionManager_Tracing) (*tracingConfig, error) {
	if t == nil {
		return nil, nil
	}
	if err := onlyFields(t, "provider", "random_sampling", "client_sampling", "overall_sampling", "spawn_upstream_span"); err != nil {
		return nil, err
	}
	p := t.GetProvider()
	if p.GetName() != openTelemetryTracer {
		return nil, fmt.Errorf("tracing provider %q is not supported, want %s", p.GetName(), openTelemetryTracer)
	}
	otel := &tracev3.OpenTelemetryConfig{}
	if err := decodeAny(p.GetTypedConfig(), otel); err != nil {
		return nil, fmt.Errorf("tracing provider: %w", err)
	}
	if err := onlyFields(otel, "grpc_service", "service_name"); err != nil {
		return nil, fmt.Errorf("tracing provider: %w", err)
	}
	if err := onlyFields(otel.GetGrpcService(), "envoy_grpc", "timeout"); err != nil {
		return nil, fmt.Errorf("tracing provider: grpc_service: %w", err)
	}
	cluster := otel.GetGrpcService().GetEnvoyGrpc().GetClusterName()
	if cluster == "" {
		return nil, errors.New("tracing provider: grpc_service.envoy_grpc.cluster_name is required")
	}
	service := otel.GetServiceName()
	if service == "" {
		service = "unknown_service:envoy" // Envoy's default
	}
	return &tracingConfig{key: tracerKey{cluster: cluster, service: service},
		random: samplingFraction(t.GetRandomSampling()), client: samplingFraction(t.GetClientSampling()), overall: samplingFraction(t.GetOverallSampling())}, nil
}

// samplingFraction is a sampling percentage as a fraction; unset is Envoy's 100%.
func samplingFraction(p *typev3.Percent) float64 {
	if p == nil {
		return 1
	}
	return p.GetValue() / 100
}

// w3c and b3Format read and write trace context headers: W3C's traceparent
// and tracestate, and Zipkin's B3 (single or multiple headers), read when a
// request has no traceparent.
var (
	w3c      = propagation.TraceContext{}
	b3Format = b3.New(b3.WithInjectEncoding(b3.B3MultipleHeader))
)

// requestTrace is a sampled request's trace: the span that children (an
// upstream attempt, a function call, the rate-limit call) nest under.
type requestTrace struct {
	tracer trace.Tracer
	ctx    context.Context
	span   trace.Span
}

// startTrace starts a request's server span when the request is sampled:
// a sampling decision in its trace context is followed, a request without
// one is sampled at the configured rates. An unsampled request costs no
// span at all; its trace headers pass upstream as they came.
func (c *tracingConfig) startTrace(t *tracer, r *http.Request, name string) *requestTrace {
	ctx := context.Background()
	h := propagation.HeaderCarrier(r.Header)
	deferred := false // a B3 context that leaves sampling to us
	switch {
	case len(r.Header["Traceparent"]) > 0:
		ctx = w3c.Extract(ctx, h)
	case len(r.Header["B3"]) > 0 || len(r.Header["X-B3-Traceid"]) > 0:
		ctx = b3Format.Extract(ctx, h)
		deferred = b3Deferred(r.Header)
	}
	if parent := trace.SpanContextFromContext(ctx); parent.IsValid() {
		switch {
		case deferred && c.sample(r.Header):
			ctx = trace.ContextWithRemoteSpanContext(ctx, parent.WithTraceFlags(trace.FlagsSampled))
		case deferred || !parent.IsSampled():
			return nil
		}
	} else if !c.sample(r.Header) {
		return nil
	} else {
		ctx = context.WithValue(ctx, sampledRoot{}, true)
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
		attribute.String("component", "proxy"),
		attribute.String("http.method", r.Method),
		attribute.String("http.url", requestTarget(r)),
		attribute.String("http.protocol", r.Proto),
		attribute.String("guid:x-request-id", r.Header.Get("X-Request-Id")),
		attribute.String("peer.address", r.RemoteAddr),
	))
	return &requestTrace{tracer: t.tracer, ctx: ctx, span: span}
}

// b3Deferred reports whether B3 headers carry no sampling decision: no
// X-B3-Sampled or X-B3-Flags, or a single b3 header of ids alone.
func b3Deferred(h http.Header) bool {
	if v := h.Get("B3"); v != "" {
		return strings.Count(v, "-") < 2
	}
	return len(h["X-B3-Sampled"]) == 0 && len(h["X-B3-Flags"]) == 0
}

// sample is Envoy's decision for a request without one: client sampling
// when it carries x-client-trace-id, random sampling otherwise, then
// overall sampling.
func (c *tracingConfig) sample(h http.Header) bool {
	p := c.random
	if len(h["X-Client-Trace-Id"]) > 0 {
		p = c.client
	}
	return rand.Float64() < p && (c.overall >= 1 || rand.Float64() < c.overall)
}

// end finishes the server span with what became of the request.
func (t *requestTrace) end(m *routeMatch) {
	status := m.sw.status()
	t.span.SetAttributes(attribute.Int("http.status_code", status), attribute.String("response_flags", orDash(m.flags)),
		attribute.String("upstream_cluster", orDash(m.cluster)))
	if status >= 500 {
		t.span.SetStatus(codes.Error, http.StatusText(status))
	}
	t.span.End()
}

// child starts a span under the request's current one.
func (t *requestTrace) child(name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return t.tracer.Start(t.ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
}

// function starts a function call's span and nests the spans that follow
// (the upstream attempts that invoke it) under it; the func returned ends
// it with the call's outcome.
func (t *requestTrace) function(k functionKey) func(*routeMatch) {
	ctx, span := t.child("function "+k.kind+" "+k.function, trace.SpanKindInternal,
		attribute.String("function.kind", k.kind), attribute.String("function.name", k.function), attribute.String("function.upstream", k.upstream))
	parent := t.ctx
	t.ctx = ctx
	return func(m *routeMatch) {
		t.ctx = parent
		status := m.sw.status()
		span.SetAttributes(attribute.Int("http.status_code", status))
		if status >= 500 || status == http.StatusTooManyRequests {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
	}
}

// rateLimitCall starts the span of a call to the rate limit service and
// puts its context in the call's gRPC metadata, so the service's spans are
// its children.
func (t *requestTrace) rateLimitCall(ctx context.Context, cluster, domain string) (context.Context, trace.Span) {
	spanCtx, span := t.child("rate_limit", trace.SpanKindClient,
		attribute.String("upstream_cluster", cluster), attribute.String("ratelimit.domain", domain))
	carrier := propagation.MapCarrier{}
	w3c.Inject(spanCtx, carrier)
	for k, v := range carrier {
		ctx = metadata.AppendToOutgoingContext(ctx, k, v)
	}
	return ctx, span
}

// endRateLimitCall finishes the span with the service's overall answer,
// or why there was none.
func endRateLimitCall(span trace.Span, resp *rlsv3.RateLimitResponse, err error) {
	if err == nil {
		span.SetAttributes(attribute.String("ratelimit.overall_code", resp.GetOverallCode().String()))
	}
	endSpan(span, err)
}

// upstreamAttempt starts the span of one try at the upstream and puts its
// context in the request's headers, so the upstream's spans are its
// children. It ends when the try does: its answer streamed, or its failure.
func (t *requestTrace) upstreamAttempt(r *http.Request, cluster, addr string, attempt int) trace.Span {
	ctx, span := t.child("router "+cluster+" egress", trace.SpanKindClient,
		attribute.String("upstream_cluster", cluster), attribute.String("upstream_address", addr), attribute.Int("retry.attempt", attempt))
	w3c.Inject(ctx, propagation.HeaderCarrier(r.Header))
	return span
}

// endAttempt finishes an upstream attempt's span, if it has one: its
// status, or why it failed.
// The status is read before the response is copied: the upstream client
// recycles a response once its body is closed.
func endAttempt(span trace.Span, status int, err error) {
	if span == nil {
		return
	}
	if err == nil {
		span.SetAttributes(attribute.Int("http.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
	endSpan(span, err)
}

// endSpan ends a span, marked failed by err when there is one.
func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
