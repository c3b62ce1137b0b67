package api

import (
	"fmt"
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindRouteOption is a RouteOption: policies an HTTPRoute rule takes on
// through an ExtensionRef filter (group gluon.dev, kind RouteOption), as
// Gloo's RouteOption attaches to Gateway API routes.
const KindRouteOption Kind = "RouteOption"

// RouteOption holds who may call a Gateway API route, and how often: the
// auth and rate limit options of a VirtualService route. An HTTPRoute rule
// names it in an ExtensionRef filter, in the HTTPRoute's namespace; the
// references it holds (Secrets, JWKS upstreams) are in its own.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=gluon
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type RouteOption struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              RouteOptionSpec `json:"spec"`
	Status            *ResourceStatus `json:"status,omitempty"`
}

// RouteOptionList is a list of RouteOptions, as the API server returns them.
//
// +kubebuilder:object:root=true
type RouteOptionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RouteOption `json:"items"`
}

// RouteOptionSpec is the options, and the JWT providers they may require
// (an HTTPRoute has no virtual host of its own to hold them).
type RouteOptionSpec struct {
	// JWTProviders are the token issuers options.jwt chooses from; without
	// options.jwt, a valid token of any of them is required.
	JWTProviders map[string]JWTProvider `json:"jwtProviders,omitempty"`
	Options      PolicyOptions          `json:"options"`
}

// PolicyOptions are the route options a RouteOption carries, with the
// meaning they have on a VirtualService route.
type PolicyOptions struct {
	JWT            *RouteJWT         `json:"jwt,omitempty"`
	Extauth        *ExtAuthExtension `json:"extauth,omitempty"`
	APIKeyAuth     *APIKeyAuth       `json:"apiKeyAuth,omitempty"`
	BasicAuth      *BasicAuth        `json:"basicAuth,omitempty"`
	Ratelimit      *RateLimitOptions `json:"ratelimit,omitempty"`
	LocalRatelimit *LocalRateLimit   `json:"localRatelimit,omitempty"`
}

// ResourceKind implements Object.
func (*RouteOption) ResourceKind() Kind { return KindRouteOption }

// Validate implements Object.
func (ro *RouteOption) Validate() error {
	var f fieldErrors
	validateMeta(&f, &ro.ObjectMeta)
	for _, name := range slices.Sorted(maps.Keys(ro.Spec.JWTProviders)) {
		validateJWTProvider(&f, fmt.Sprintf("spec.jwtProviders[%s]", name), ro.Spec.JWTProviders[name])
	}
	o := ro.Spec.Options
	validateRouteOptions(&f, "spec.options", &RouteOptions{JWT: o.JWT, Extauth: o.Extauth, APIKeyAuth: o.APIKeyAuth,
		BasicAuth: o.BasicAuth, Ratelimit: o.Ratelimit, LocalRatelimit: o.LocalRatelimit})
	if j := o.JWT; j != nil && !j.Disable {
		for _, name := range append(slices.Clone(j.RequireAny), j.RequireAll...) {
			if _, ok := ro.Spec.JWTProviders[name]; !ok {
				f.add("spec.options.jwt", "jwt provider %q is not one of spec.jwtProviders (%v)", name, slices.Sorted(maps.Keys(ro.Spec.JWTProviders)))
			}
		}
		if len(ro.Spec.JWTProviders) == 0 {
			f.add("spec.options.jwt", "spec.jwtProviders is empty: there is no provider to require")
		}
	}
	return f.err()
}
