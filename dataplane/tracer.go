package dataplane

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// Batching of spans toward a collector. Requests only put spans on a
// bounded queue; a full queue drops spans rather than wait, and a
// collector that is down costs an export attempt per batch, off the
// request path.
const (
	spanQueueSize     = 4096
	spanBatchSize     = 512
	spanBatchInterval = time.Second
	spanExportTimeout = 5 * time.Second
)

// tracer exports one collector's spans. It outlives configs: every
// connection manager that names the same collector cluster and service
// shares it, so batches and the connection survive updates.
type tracer struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
}

// tracers holds the data plane's tracers, by collector. Configs are built
// on the xDS goroutine only; exports read the served clusters.
type tracers struct {
	log      *slog.Logger
	byKey    map[tracerKey]*tracer
	clusters atomic.Pointer[map[string]*upstreamCluster]
}

func newTracers(log *slog.Logger) *tracers {
	routeOTelErrors(log)
	return &tracers{log: log, byKey: map[tracerKey]*tracer{}}
}

var otelErrorsOnce sync.Once

// routeOTelErrors sends the OpenTelemetry SDK's errors (a failed export,
// mostly) to the data plane's log at debug level: a collector that is
// down must not flood stderr with a line per batch.
func routeOTelErrors(log *slog.Logger) {
	otelErrorsOnce.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Debug("tracing", "error", err) }))
	})
}

// get returns the tracer for a collector, starting it the first time.
func (ts *tracers) get(key tracerKey) *tracer {
	if t := ts.byKey[key]; t != nil {
		return t
	}
	exp := otlptrace.NewUnstarted(&collectorClient{cluster: key.cluster, clusters: &ts.clusters})
	res := resource.NewSchemaless(attribute.String("service.name", key.service))
	p := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(rootSampler{})),
		sdktrace.WithBatcher(exp, sdktrace.WithMaxQueueSize(spanQueueSize), sdktrace.WithMaxExportBatchSize(spanBatchSize),
			sdktrace.WithBatchTimeout(spanBatchInterval), sdktrace.WithExportTimeout(spanExportTimeout)),
	)
	t := &tracer{provider: p, tracer: p.Tracer("gluon")}
	ts.byKey[key] = t
	return t
}

// serve points exports at the clusters now served and stops the tracers
// no connection manager names any more, flushing their spans.
func (ts *tracers) serve(clusters map[string]*upstreamCluster, used map[tracerKey]bool) {
	ts.clusters.Store(&clusters)
	for key, t := range ts.byKey {
		if !used[key] {
			delete(ts.byKey, key)
			go t.stop()
		}
	}
}

// close stops every tracer, flushing what is queued within a bound.
func (ts *tracers) close() {
	for key, t := range ts.byKey {
		delete(ts.byKey, key)
		t.stop()
	}
}

func (t *tracer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), spanExportTimeout)
	defer cancel()
	_ = t.provider.Shutdown(ctx) // spans that cannot be flushed in time are dropped
}

// rootSampler samples the root spans the connection manager decided to
// sample (startTrace marks their context); child spans follow their parent.
type rootSampler struct{}

type sampledRoot struct{}

func (rootSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if p.ParentContext.Value(sampledRoot{}) != nil {
		return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample}
	}
	return sdktrace.SamplingResult{Decision: sdktrace.Drop}
}

func (rootSampler) Description() string { return "EnvoyHCMSampling" }

// collectorClient uploads spans with OTLP/gRPC to the collector cluster,
// over the cluster's own gRPC connection, as Envoy's envoy_grpc service
// does: its endpoints, TLS and updates are the cluster's.
type collectorClient struct {
	cluster  string
	clusters *atomic.Pointer[map[string]*upstreamCluster]
}

func (c *collectorClient) Start(context.Context) error { return nil }
func (c *collectorClient) Stop(context.Context) error  { return nil }

func (c *collectorClient) UploadTraces(ctx context.Context, spans []*tracepb.ResourceSpans) error {
	var cl *upstreamCluster
	if m := c.clusters.Load(); m != nil {
		cl = (*m)[c.cluster]
	}
	if cl == nil {
		return fmt.Errorf("tracing collector cluster %q not found", c.cluster)
	}
	conn, err := cl.grpcConn()
	if err != nil {
		return fmt.Errorf("tracing collector cluster %q: %w", c.cluster, err)
	}
	_, err = coltracepb.NewTraceServiceClient(conn).Export(ctx, &coltracepb.ExportTraceServiceRequest{ResourceSpans: spans})
	if err != nil {
		return fmt.Errorf("tracing collector cluster %q: export: %w", c.cluster, err)
	}
	return nil
}
