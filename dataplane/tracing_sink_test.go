package dataplane

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
)

// spanSink is an OTLP/gRPC trace receiver that keeps what it is sent: the
// data plane's unit tests and benchmarks read their spans from it (the
// e2e tests use a real Jaeger).
type spanSink struct {
	coltracepb.UnimplementedTraceServiceServer
	addr  string
	mu    sync.Mutex
	spans []*tracepb.Span
}

func startSpanSink(t testing.TB) *spanSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &spanSink{addr: ln.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, s)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return s
}

func (s *spanSink) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			s.spans = append(s.spans, ss.GetSpans()...)
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// waitSpans waits until the sink holds n spans and returns them.
func (s *spanSink) waitSpans(t testing.TB, n int) []*tracepb.Span {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		spans := slices.Clone(s.spans)
		s.mu.Unlock()
		if len(spans) >= n {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d spans after 10s, want %d", len(spans), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// traced turns on OpenTelemetry tracing to cluster in a listener's
// connection manager, at percent random sampling.
func traced(t testing.TB, l *listenerv3.Listener, cluster string, percent float64) *listenerv3.Listener {
	f := l.GetFilterChains()[0].GetFilters()[0]
	hcm := &hcmv3.HttpConnectionManager{}
	if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
		t.Fatal(err)
	}
	hcm.Tracing = otelTracing(t, &tracev3.OpenTelemetryConfig{ServiceName: "unit", GrpcService: &corev3.GrpcService{
		TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: cluster}}}})
	hcm.Tracing.RandomSampling = &typev3.Percent{Value: percent}
	f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, hcm)}
	return l
}

// tracedResources is basic with tracing at percent to a span sink.
func (e *env) tracedResources(sink *spanSink, percent float64, backends map[string]*httptest.Server) resources {
	r := e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "b"))), backends)
	r.listeners = []types.Resource{traced(e.t, httpListener(e.t, "http", e.port, "rc"), "otel", percent)}
	r.clusters = append(r.clusters, rlsCluster(e.t, "otel", sink.addr))
	return r
}

// BenchmarkTracing measures a proxied request with tracing off, on at 1%
// random sampling and at 100%, spans exported to a local receiver.
func BenchmarkTracing(b *testing.B) {
	backendSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("hello")) }))
	b.Cleanup(backendSrv.Close)
	backends := map[string]*httptest.Server{"b": backendSrv}
	sink := startSpanSink(b)
	e := newEnv(b)
	url := "http://127.0.0.1:" + itoa(e.port) + "/bench"
	b.Run("off", func(b *testing.B) {
		e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "b"))), backends))
		benchGet(b, e.client, url)
	})
	for _, p := range []struct {
		name    string
		percent float64
	}{{"1%", 1}, {"100%", 100}} {
		b.Run(p.name, func(b *testing.B) {
			e.push(e.tracedResources(sink, p.percent, backends))
			benchGet(b, e.client, url)
		})
	}
}
