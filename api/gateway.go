package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Gateway is a listener: an address and port, and the virtual services it serves.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=gluon,shortName=gw
// +kubebuilder:printcolumn:name="Port",type=integer,JSONPath=`.spec.bindPort`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Gateway struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              GatewaySpec     `json:"spec"`
	Status            *ResourceStatus `json:"status,omitempty"`
}

// GatewayList is a list of Gateways, as the API server returns them.
//
// +kubebuilder:object:root=true
type GatewayList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Gateway `json:"items"`
}

// DefaultProxyName is the proxy a Gateway belongs to when it names none; a
// data plane or Envoy asks for it with node.cluster (or metadata role).
const DefaultProxyName = "gateway-proxy"

// GatewaySpec follows Gloo's Gateway.
type GatewaySpec struct {
	BindAddress string `json:"bindAddress"`
	BindPort    uint32 `json:"bindPort"`
	// ProxyNames says which proxies (Envoy fleets) serve this gateway;
	// default [gateway-proxy].
	ProxyNames  []string     `json:"proxyNames,omitempty"`
	HTTPGateway *HTTPGateway `json:"httpGateway,omitempty"`
	// Options are the listener's own (buffer limits).
	Options *ListenerOptions `json:"options,omitempty"`
	// SSL makes the gateway HTTPS: it serves the virtual services that
	// have an sslConfig, each on a filter chain chosen by SNI.
	SSL bool `json:"ssl,omitempty"`
	// TCPGateway makes it forward TCP instead of serving HTTP.
	TCPGateway *TCPGateway `json:"tcpGateway,omitempty"`
}

// HTTPGateway selects virtual services by reference or by labels; with
// neither, it serves every virtual service.
type HTTPGateway struct {
	VirtualServices          []ResourceRef        `json:"virtualServices,omitempty"`
	VirtualServiceSelector   map[string]string    `json:"virtualServiceSelector,omitempty"`
	VirtualServiceNamespaces []string             `json:"virtualServiceNamespaces,omitempty"`
	Options                  *HTTPListenerOptions `json:"options,omitempty"`
}

// HTTPListenerOptions are a gateway's HTTP options, as in Gloo.
type HTTPListenerOptions struct {
	HTTPConnectionManagerSettings *HTTPConnectionManagerSettings `json:"httpConnectionManagerSettings,omitempty"`
	// Gzip and Brotli compress responses for clients that accept them.
	Gzip   *Gzip   `json:"gzip,omitempty"`
	Brotli *Brotli `json:"brotli,omitempty"`
	// Buffer reads whole request bodies before they go on, up to a limit.
	Buffer *Buffer `json:"buffer,omitempty"`
}

// HTTPConnectionManagerSettings tune Envoy's HTTP connection manager.
type HTTPConnectionManagerSettings struct {
	// StreamIdleTimeout ends a request that shows no activity for this
	// long (a stalled body: 408); default 5m, 0s turns it off.
	StreamIdleTimeout *metav1.Duration `json:"streamIdleTimeout,omitempty"`
	// RequestTimeout bounds receiving a whole request (408); default none.
	RequestTimeout *metav1.Duration `json:"requestTimeout,omitempty"`
	// NormalizePath resolves dot segments (RFC 3986) before routes match,
	// so that /public/../admin matches /admin's routes; default true.
	NormalizePath *bool `json:"normalizePath,omitempty"`
	// MergeSlashes collapses repeated slashes in the path before routes match.
	MergeSlashes bool `json:"mergeSlashes,omitempty"`
	// Upgrades turns protocol upgrades on or off; WebSocket upgrades are
	// on unless turned off here (as in Gloo).
	Upgrades []ProtocolUpgradeConfig `json:"upgrades,omitempty"`
	// Tracing sends spans of sampled requests to an OpenTelemetry
	// collector: one per request, per upstream attempt, per function call
	// and per rate-limit call.
	Tracing *Tracing `json:"tracing,omitempty"`
}

// Tracing is Gloo's listener tracing, with its OpenTelemetry provider.
type Tracing struct {
	OpenTelemetryConfig *OpenTelemetryTracing `json:"openTelemetryConfig,omitempty"`
	TracePercentages    *TracePercentages     `json:"tracePercentages,omitempty"`
}

// OpenTelemetryTracing exports spans with OTLP/gRPC to a collector, an
// Upstream with useHttp2.
type OpenTelemetryTracing struct {
	CollectorUpstreamRef ResourceRef `json:"collectorUpstreamRef"`
	// ServiceName is the service.name the spans carry; default "gluon".
	ServiceName string `json:"serviceName,omitempty"`
}

// TracePercentages choose the requests traced (Envoy's sampling): a
// request that brings a sampled trace context is always traced, one that
// brings an unsampled one never; any other at clientSamplePercentage when
// it sends x-client-trace-id, at randomSamplePercentage otherwise, then at
// overallSamplePercentage. Each defaults to 100.
type TracePercentages struct {
	ClientSamplePercentage  *float64 `json:"clientSamplePercentage,omitempty"`
	RandomSamplePercentage  *float64 `json:"randomSamplePercentage,omitempty"`
	OverallSamplePercentage *float64 `json:"overallSamplePercentage,omitempty"`
}

// ProtocolUpgradeConfig is Gloo's: one upgrade protocol, on or off.
type ProtocolUpgradeConfig struct {
	Websocket *ProtocolUpgradeSpec `json:"websocket,omitempty"`
}

// ProtocolUpgradeSpec turns an upgrade on (default) or off.
type ProtocolUpgradeSpec struct {
	Enabled *bool `json:"enabled,omitempty"`
}

// websocketSetting is what a list of upgrade configs says of WebSockets:
// nil when none of them names it.
func websocketSetting(ups []ProtocolUpgradeConfig) *bool {
	var out *bool
	for _, u := range ups {
		if u.Websocket != nil {
			on := u.Websocket.Enabled == nil || *u.Websocket.Enabled
			out = &on
		}
	}
	return out
}

// WebSockets says whether the gateway lets WebSocket upgrades through.
func (s *HTTPConnectionManagerSettings) WebSockets() bool {
	if s == nil {
		return true
	}
	on := websocketSetting(s.Upgrades)
	return on == nil || *on
}

// GetObjectKind implements Object.
func (*Gateway) ResourceKind() Kind { return KindGateway }

// Proxies returns the proxies the gateway belongs to.
func (g *Gateway) Proxies() []string {
	if len(g.Spec.ProxyNames) == 0 {
		return []string{DefaultProxyName}
	}
	return g.Spec.ProxyNames
}
