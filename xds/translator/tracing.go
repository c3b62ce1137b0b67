package translator

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tracev3 "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// openTelemetryTracer is Envoy's OpenTelemetry tracer.
const openTelemetryTracer = "envoy.tracers.opentelemetry"

// tracing is a listener's tracing: OTLP/gRPC to the collector cluster, a
// span per upstream attempt (spawn_upstream_span) under the request's.
func tracing(l *ir.Listener) (*hcmv3.HttpConnectionManager_Tracing, error) {
	t := l.Tracing
	if t == nil {
		return nil, nil
	}
	cfg, err := packAny(&tracev3.OpenTelemetryConfig{
		GrpcService: &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
			EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: t.Cluster}}},
		ServiceName: t.ServiceName,
	})
	if err != nil {
		return nil, err
	}
	return &hcmv3.HttpConnectionManager_Tracing{
		Provider:          &tracev3.Tracing_Http{Name: openTelemetryTracer, ConfigType: &tracev3.Tracing_Http_TypedConfig{TypedConfig: cfg}},
		RandomSampling:    &typev3.Percent{Value: t.RandomPercent},
		ClientSampling:    &typev3.Percent{Value: t.ClientPercent},
		OverallSampling:   &typev3.Percent{Value: t.OverallPercent},
		SpawnUpstreamSpan: wrapperspb.Bool(true),
	}, nil
}
