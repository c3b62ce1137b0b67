package translator

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// healthChecksFeature sets a cluster's active health checks.
var healthChecksFeature = feature{
	name: "health checks",
	cluster: func(out *clusterv3.Cluster, c *ir.Cluster) error {
		for _, hc := range c.HealthChecks {
			out.HealthChecks = append(out.HealthChecks, healthCheck(hc))
		}
		return nil
	},
}

func healthCheck(hc ir.HealthCheck) *corev3.HealthCheck {
	out := &corev3.HealthCheck{
		Timeout:            durationpb.New(hc.Timeout.D()),
		Interval:           durationpb.New(hc.Interval.D()),
		UnhealthyThreshold: wrapperspb.UInt32(hc.UnhealthyThreshold),
		HealthyThreshold:   wrapperspb.UInt32(hc.HealthyThreshold),
	}
	h := hc.HTTP
	if h == nil {
		out.HealthChecker = &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}
		return out
	}
	http := &corev3.HealthCheck_HttpHealthCheck{Host: h.Host, Path: h.Path}
	for _, r := range h.ExpectedStatuses {
		http.ExpectedStatuses = append(http.ExpectedStatuses, &typev3.Int64Range{Start: int64(r.Start), End: int64(r.End)})
	}
	out.HealthChecker = &corev3.HealthCheck_HttpHealthCheck_{HttpHealthCheck: http}
	return out
}
