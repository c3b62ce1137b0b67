package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Settings is the control plane's own configuration; at most one is in force.
type Settings struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              SettingsSpec `json:"spec"`
}

// SettingsSpec holds global behaviour.
type SettingsSpec struct {
	InvalidConfigPolicy *InvalidConfigPolicy `json:"invalidConfigPolicy,omitempty"`
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
func (*Settings) GetObjectKind() Kind { return KindSettings }
