package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Settings is the control plane's own configuration; at most one is in force.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=gluon
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Settings struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              SettingsSpec    `json:"spec"`
	Status            *ResourceStatus `json:"status,omitempty"`
}

// SettingsList is a list of Settingss, as the API server returns them.
//
// +kubebuilder:object:root=true
type SettingsList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Settings `json:"items"`
}

// SettingsSpec holds global behaviour.
type SettingsSpec struct {
	InvalidConfigPolicy *InvalidConfigPolicy    `json:"invalidConfigPolicy,omitempty"`
	Discovery           *DiscoverySettings      `json:"discovery,omitempty"`
	Transformation      *TransformationSettings `json:"transformation,omitempty"`
	Ratelimit           *RateLimitSettings      `json:"ratelimit,omitempty"`
	// Extauth is the external authorization service routes may ask.
	Extauth *ExtAuthSettings `json:"extauth,omitempty"`
}

// The function discovery modes, Gloo's names.
const (
	// FDSBlacklist discovers every upstream not labelled disabled (default).
	FDSBlacklist = "BLACKLIST"
	// FDSWhitelist discovers only upstreams labelled enabled.
	FDSWhitelist = "WHITELIST"
	// FDSDisabled discovers nothing.
	FDSDisabled = "DISABLED"
)

// DiscoverySettings control function discovery.
type DiscoverySettings struct {
	FdsMode string `json:"fdsMode,omitempty"`
	// PollInterval is how often documents are fetched again (default 30s).
	PollInterval *metav1.Duration `json:"pollInterval,omitempty"`
	// OpenAPI bounds the OpenAPI documents discovery reads.
	OpenAPI *OpenAPIDiscoverySettings `json:"openapi,omitempty"`
}

// OpenAPIDiscoverySettings bound a document: a larger one, or one that
// declares more operations, is refused (the Upstream says why) before it
// is parsed.
type OpenAPIDiscoverySettings struct {
	// MaxDocumentBytes defaults to 32 MiB.
	MaxDocumentBytes int64 `json:"maxDocumentBytes,omitempty"`
	// MaxOperations defaults to 10,000, and may be at most 100,000.
	MaxOperations int `json:"maxOperations,omitempty"`
}

// TransformationSettings bound what templates may read.
type TransformationSettings struct {
	// AllowedEnv names the environment variables templates may read with env().
	AllowedEnv []string `json:"allowedEnv,omitempty"`
}

// InvalidConfigPolicy says what a route that cannot be served (its upstream
// is missing, say) answers instead; Gloo's field names.
type InvalidConfigPolicy struct {
	// InvalidRouteResponseCode defaults to 500.
	InvalidRouteResponseCode uint32 `json:"invalidRouteResponseCode,omitempty"`
	// InvalidRouteResponseBody defaults to a message naming the problem.
	InvalidRouteResponseBody string `json:"invalidRouteResponseBody,omitempty"`
}

// GetObjectKind implements Object.
func (*Settings) ResourceKind() Kind { return KindSettings }
