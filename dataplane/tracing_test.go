package dataplane

import (
	"bytes"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func otelTracing(t testing.TB, cfg proto.Message) *hcmv3.HttpConnectionManager_Tracing {
	a, err := anypb.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &hcmv3.HttpConnectionManager_Tracing{Provider: &tracev3.Tracing_Http{Name: openTelemetryTracer,
		ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: a}}}
}

func TestCompileTracing(t *testing.T) {
	collector := &tracev3.OpenTelemetryConfig{GrpcService: &corev3.GrpcService{
		TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "otel"}}}}
	good := otelTracing(t, collector)
	good.RandomSampling = &typev3.Percent{Value: 1}
	c, err := compileTracing(good)
	if err != nil {
		t.Fatal(err)
	}
	if want := (tracerKey{cluster: "otel", service: "unknown_service:envoy"}); c.key != want || c.random != 0.01 || c.client != 1 || c.overall != 1 {
		t.Errorf("compiled %+v", c)
	}

	zipkin := otelTracing(t, collector)
	zipkin.Provider.Name = "envoy.tracers.zipkin"
	noCluster := otelTracing(t, &tracev3.OpenTelemetryConfig{ServiceName: "x"})
	httpExport := otelTracing(t, &tracev3.OpenTelemetryConfig{GrpcService: collector.GrpcService, HttpService: &corev3.HttpService{}})
	verbose := otelTracing(t, collector)
	verbose.Verbose = true
	for name, c := range map[string]struct {
		in   *hcmv3.HttpConnectionManager_Tracing
		want string
	}{
		"another tracer":    {zipkin, `tracing provider "envoy.tracers.zipkin" is not supported`},
		"no cluster":        {noCluster, "cluster_name is required"},
		"OTLP over HTTP":    {httpExport, "http_service"},
		"an unknown option": {verbose, "verbose"},
	} {
		if _, err := compileTracing(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, c.want)
		}
	}
}

// TestTraceSampling: requests without a decision are sampled at the
// random rate, or the client rate when they send x-client-trace-id, and
// the overall rate bounds both.
func TestTraceSampling(t *testing.T) {
	rate := func(c *tracingConfig, h http.Header) float64 {
		n := 0
		for range 10000 {
			if c.sample(h) {
				n++
			}
		}
		return float64(n) / 10000
	}
	client := http.Header{"X-Client-Trace-Id": {"abc"}}
	for _, c := range []struct {
		cfg            tracingConfig
		random, client float64
	}{
		{tracingConfig{random: 0, client: 1, overall: 1}, 0, 1},
		{tracingConfig{random: 1, client: 0, overall: 1}, 1, 0},
		{tracingConfig{random: 0.1, client: 1, overall: 0.5}, 0.05, 0.5},
	} {
		if got := rate(&c.cfg, http.Header{}); got < c.random-0.02 || got > c.random+0.02 {
			t.Errorf("%+v: random rate %.3f, want %.2f", c.cfg, got, c.random)
		}
		if got := rate(&c.cfg, client); got < c.client-0.02 || got > c.client+0.02 {
			t.Errorf("%+v: client rate %.3f, want %.2f", c.cfg, got, c.client)
		}
	}
}

// TestTraceSpans: a request that brings a sampled traceparent gets a
// server span under the client's, and under it the rate-limit call's
// span and the upstream attempt's, whose context the upstream receives.
func TestTraceSpans(t *testing.T) {
	e := newEnv(t)
	var seen atomic.Value
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tp := r.Header.Get("Traceparent"); tp != "" {
			seen.Store(tp)
		}
	}))
	t.Cleanup(b.Close)
	sink, rls := startSpanSink(t), startFakeRLS(t)
	rc := routeConfig("rc", vhost("all", []string{"*"}, withRateLimits(prefixRoute("/", "b"), false, rateLimit(genericKey("k", "v")))))
	res := e.rateLimitResources(rc, map[string]*httptest.Server{"b": b}, rls.addr, time.Second, false)
	res.listeners[0] = traced(t, res.listeners[0].(*listenerv3.Listener), "otel", 0)
	res.clusters = append(res.clusters, rlsCluster(t, "otel", sink.addr))
	e.push(res)

	e.call("GET", "", "/", http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}, 200)
	e.call("GET", "", "/", nil, 200) // no decision, 0%: no span
	sink.waitSpans(t, 3)
	time.Sleep(spanBatchInterval + 200*time.Millisecond) // a batch more, if there were more spans
	spans := map[string]*tracepb.Span{}
	all := sink.waitSpans(t, 3)
	for _, s := range all {
		spans[s.GetName()] = s
	}
	server, limit, attempt := spans["ingress"], spans["rate_limit"], spans["router b egress"]
	if len(all) != 3 || server == nil || limit == nil || attempt == nil {
		t.Fatalf("spans %v", spans)
	}
	if hex.EncodeToString(server.GetParentSpanId()) != "00f067aa0ba902b7" ||
		!bytes.Equal(limit.GetParentSpanId(), server.GetSpanId()) || !bytes.Equal(attempt.GetParentSpanId(), server.GetSpanId()) {
		t.Errorf("parents: server %x, rate limit %x, attempt %x; server span %x", server.GetParentSpanId(), limit.GetParentSpanId(),
			attempt.GetParentSpanId(), server.GetSpanId())
	}
	if want := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + hex.EncodeToString(attempt.GetSpanId()) + "-01"; seen.Load() != want {
		t.Errorf("upstream saw traceparent %v, want %s", seen.Load(), want)
	}
	rls.mu.Lock()
	defer rls.mu.Unlock()
	if want := "00-4bf92f3577b34da6a3ce929d0e0e4736-" + hex.EncodeToString(limit.GetSpanId()) + "-01"; rls.traceparent != want {
		t.Errorf("the rate limit service saw traceparent %q, want %s", rls.traceparent, want)
	}
}

// TestB3SamplingDecisions: B3 headers with a decision are followed; ones
// without leave it to the configured rates, keeping the trace.
func TestB3SamplingDecisions(t *testing.T) {
	tr := newTracers(slog.New(slog.DiscardHandler)).get(tracerKey{cluster: "none", service: "test"})
	defer tr.stop()
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, c := range []struct {
		name    string
		headers http.Header
		rate    float64
		traced  bool
	}{
		{"sampled", http.Header{"X-B3-Traceid": {traceID}, "X-B3-Spanid": {spanID}, "X-B3-Sampled": {"1"}}, 0, true},
		{"not sampled", http.Header{"X-B3-Traceid": {traceID}, "X-B3-Spanid": {spanID}, "X-B3-Sampled": {"0"}}, 1, false},
		{"deferred, sampled here", http.Header{"X-B3-Traceid": {traceID}, "X-B3-Spanid": {spanID}}, 1, true},
		{"deferred, not sampled here", http.Header{"X-B3-Traceid": {traceID}, "X-B3-Spanid": {spanID}}, 0, false},
		{"single header, deferred", http.Header{"B3": {traceID + "-" + spanID}}, 1, true},
		{"single header, not sampled", http.Header{"B3": {traceID + "-" + spanID + "-0"}}, 1, false},
	} {
		cfg := &tracingConfig{random: c.rate, client: c.rate, overall: 1}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header = c.headers
		rt := cfg.startTrace(tr, r, "ingress")
		if (rt != nil) != c.traced {
			t.Errorf("%s: traced %v, want %v", c.name, rt != nil, c.traced)
			continue
		}
		if rt != nil {
			sc := rt.span.SpanContext()
			if sc.TraceID().String() != traceID || !sc.IsSampled() {
				t.Errorf("%s: span in trace %s (sampled %v), want %s", c.name, sc.TraceID(), sc.IsSampled(), traceID)
			}
			rt.span.End()
		}
	}
}
