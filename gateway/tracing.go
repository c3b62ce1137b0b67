package gateway

import (
	"fmt"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// defaultTraceServiceName is the service.name of a gateway's spans when its
// tracing names none.
const defaultTraceServiceName = "gluon"

// tracing is a gateway's tracing. A collector that is not an HTTP/2
// upstream leaves the gateway serving untraced, with a warning: tracing
// must never take traffic down.
func (t *translation) tracing(g *api.Gateway) *ir.Tracing {
	h := g.Spec.HTTPGateway
	if h == nil || h.Options == nil || h.Options.HTTPConnectionManagerSettings == nil || h.Options.HTTPConnectionManagerSettings.Tracing == nil {
		return nil
	}
	tr := h.Options.HTTPConnectionManagerSettings.Tracing
	const path = "spec.httpGateway.options.httpConnectionManagerSettings.tracing.openTelemetryConfig.collectorUpstreamRef"
	ref := tr.OpenTelemetryConfig.CollectorUpstreamRef.Ref(g.Namespace)
	u, ok := t.upstreams[ref]
	switch {
	case !ok:
		t.reports.Warn(api.KeyOf(g), api.Problem{Code: api.UpstreamNotFound, Path: path,
			Message: fmt.Sprintf("tracing collector Upstream %s not found; requests are not traced", ref)})
		return nil
	case !u.Spec.UseHTTP2:
		t.reports.Warn(api.KeyOf(g), api.Problem{Code: api.InvalidField, Path: path,
			Message: fmt.Sprintf("tracing collector Upstream %s must set useHttp2 (OTLP/gRPC); requests are not traced", ref)})
		return nil
	}
	out := &ir.Tracing{Cluster: u.cluster, ServiceName: tr.OpenTelemetryConfig.ServiceName,
		RandomPercent: 100, ClientPercent: 100, OverallPercent: 100}
	if out.ServiceName == "" {
		out.ServiceName = defaultTraceServiceName
	}
	if p := tr.TracePercentages; p != nil {
		setPercent(&out.RandomPercent, p.RandomSamplePercentage)
		setPercent(&out.ClientPercent, p.ClientSamplePercentage)
		setPercent(&out.OverallPercent, p.OverallSamplePercentage)
	}
	return out
}

func setPercent(dst *float64, v *float64) {
	if v != nil {
		*dst = *v
	}
}
