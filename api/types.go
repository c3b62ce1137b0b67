// Package api holds Gluon's user-facing resources. Field names follow Gloo's
// (gateway.solo.io / gloo.solo.io) wherever Gloo has one, so that users can
// migrate their YAML with little more than an apiVersion change.
package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Group, Version and APIVersion identify Gluon's resources in YAML and, later, as CRDs.
const (
	Group      = "gluon.dev"
	Version    = "v1"
	APIVersion = Group + "/" + Version
)

// Kind names a resource type.
type Kind string

// The resource kinds Gluon understands.
const (
	KindUpstream       Kind = "Upstream"
	KindVirtualService Kind = "VirtualService"
	KindGateway        Kind = "Gateway"
	KindSettings       Kind = "Settings"
)

// DefaultNamespace is given to resources that name none.
const DefaultNamespace = "default"

// ResourceRef points at another resource by name; an empty namespace means the
// referrer's own.
type ResourceRef struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// Object is what every Gluon resource is.
//
// +kubebuilder:object:generate=false
type Object interface {
	metav1.Object
	ResourceKind() Kind
	// Validate checks the resource on its own (no references) and returns
	// every problem, each prefixed with its field path.
	Validate() error
}

// Key identifies one resource.
type Key struct {
	Kind      Kind   `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// String renders a key the way reports and logs name a resource.
func (k Key) String() string { return string(k.Kind) + " " + k.Namespace + "/" + k.Name }

// KeyOf returns the key of an object.
func KeyOf(o Object) Key {
	return Key{Kind: o.ResourceKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
}

// Ref resolves a reference made from namespace ns.
func (r ResourceRef) Ref(ns string) ResourceRef {
	if r.Namespace == "" {
		r.Namespace = ns
	}
	return r
}

// String renders a reference as namespace/name.
func (r ResourceRef) String() string { return r.Namespace + "/" + r.Name }

// Empty is a field that means something by being set, like Gloo's `{}`
// options (passthrough, remoteAddress).
type Empty struct{}
