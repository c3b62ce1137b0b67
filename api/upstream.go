package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Upstream is a destination for routes: a set of hosts (and, with function
// discovery, the functions they expose).
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=gluon,shortName=us
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.status.type`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Functions",type=integer,JSONPath=`.status.functions`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Upstream struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              UpstreamSpec    `json:"spec"`
	Status            *UpstreamStatus `json:"status,omitempty"`
}

// UpstreamList is a list of Upstreams, as the API server returns them.
//
// +kubebuilder:object:root=true
type UpstreamList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Upstream `json:"items"`
}

// UpstreamSpec holds exactly one upstream type.
type UpstreamSpec struct {
	Static *StaticUpstream `json:"static,omitempty"`
	AWS    *AWSUpstream    `json:"aws,omitempty"`
	Azure  *AzureUpstream  `json:"azure,omitempty"`
	Kube   *KubeUpstream   `json:"kube,omitempty"`
	Consul *ConsulUpstream `json:"consul,omitempty"`
	// SSLConfig makes connections to the upstream use TLS.
	SSLConfig *UpstreamSSLConfig `json:"sslConfig,omitempty"`
	// ConnectTimeout bounds connection establishment (default 5s).
	ConnectTimeout *metav1.Duration `json:"connectTimeout,omitempty"`
	// CircuitBreakers limit what the upstream is sent at once; past them
	// requests get 503 with x-envoy-overloaded.
	CircuitBreakers *CircuitBreakerConfig `json:"circuitBreakers,omitempty"`
	// OutlierDetection takes endpoints that keep failing out of rotation.
	OutlierDetection *OutlierDetection `json:"outlierDetection,omitempty"`
	// HealthChecks probe every endpoint; one failing them leaves rotation
	// until it passes again.
	HealthChecks []HealthCheck `json:"healthChecks,omitempty"`
	// LoadBalancerConfig chooses the balancing policy.
	LoadBalancerConfig *LoadBalancerConfig `json:"loadBalancerConfig,omitempty"`
	// UseHTTP2 speaks HTTP/2 (cleartext, or over TLS with sslConfig) to the
	// upstream: a gRPC service, an OpenTelemetry collector.
	UseHTTP2 bool `json:"useHttp2,omitempty"`
}

// CircuitBreakerConfig is Gloo's (Envoy's default-priority thresholds); a
// field left out keeps Envoy's default (1024, or 3 for maxRetries).
type CircuitBreakerConfig struct {
	MaxConnections     *uint32 `json:"maxConnections,omitempty"`
	MaxPendingRequests *uint32 `json:"maxPendingRequests,omitempty"`
	MaxRequests        *uint32 `json:"maxRequests,omitempty"`
	MaxRetries         *uint32 `json:"maxRetries,omitempty"`
	// RetryBudget, when set, bounds retries in flight instead of maxRetries.
	RetryBudget *RetryBudget `json:"retryBudget,omitempty"`
}

// StaticUpstream lists hosts by address (IP or DNS name).
type StaticUpstream struct {
	Hosts []Host `json:"hosts"`
	// UseTLS turns on TLS with each host's sniAddr (or addr) as SNI.
	UseTLS *bool `json:"useTls,omitempty"`
	// ServiceSpec says where the upstream's functions are described; by
	// default its hosts are probed for an OpenAPI document.
	ServiceSpec *ServiceSpec `json:"serviceSpec,omitempty"`
}

// ServiceSpec describes the service behind an upstream.
type ServiceSpec struct {
	Rest *RestServiceSpec `json:"rest,omitempty"`
	// GRPC gives the descriptors of a gRPC server without reflection.
	// Without it, an upstream with useHttp2 is asked by server reflection.
	GRPC *GRPCServiceSpec `json:"grpc,omitempty"`
}

// GRPCServiceSpec is a serialised FileDescriptorSet (protoc
// --include_imports --descriptor_set_out), as Gloo's protoDescriptorBin.
type GRPCServiceSpec struct {
	// ProtoDescriptorBin is the set itself (base64 in YAML and JSON).
	ProtoDescriptorBin []byte `json:"protoDescriptorBin,omitempty"`
	// ProtoDescriptorFile is a file holding it, on the control plane's host.
	ProtoDescriptorFile string `json:"protoDescriptorFile,omitempty"`
}

// RestServiceSpec points at the upstream's OpenAPI document.
type RestServiceSpec struct {
	SwaggerInfo *SwaggerInfo `json:"swaggerInfo,omitempty"`
}

// SwaggerInfo is the document's URL, or the document itself.
type SwaggerInfo struct {
	URL    string `json:"url,omitempty"`
	Inline string `json:"inline,omitempty"`
}

// FunctionDiscoveryLabel opts an upstream in (enabled) or out (disabled) of
// function discovery, against Settings' fdsMode.
const FunctionDiscoveryLabel = "discovery.gluon.dev/function_discovery"

// Host is one address of a static upstream.
type Host struct {
	Addr    string `json:"addr"`
	Port    uint32 `json:"port"`
	SniAddr string `json:"sniAddr,omitempty"`
	// LoadBalancingWeight defaults to 1.
	LoadBalancingWeight *uint32 `json:"loadBalancingWeight,omitempty"`
}

// UpstreamSSLConfig configures TLS towards an upstream.
type UpstreamSSLConfig struct {
	Sni string `json:"sni,omitempty"`
	// SecretRef names a tls Secret: its certificate is presented to the
	// upstream (mTLS) and its rootCa, if any, verifies the upstream.
	SecretRef *ResourceRef `json:"secretRef,omitempty"`
}

// GetObjectKind implements Object.
func (*Upstream) ResourceKind() Kind { return KindUpstream }

// GetGRPC returns the gRPC service spec (nil-safe).
func (s *ServiceSpec) GetGRPC() *GRPCServiceSpec {
	if s == nil {
		return nil
	}
	return s.GRPC
}
