package api

import (
	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// GatewayControllerName is the GatewayClass controllerName Gluon serves.
const GatewayControllerName = "gluon.dev/gateway-controller"

// GatewayAPI holds the Kubernetes Gateway API objects a source read. They
// stay in their upstream types: users write them, and their status follows
// the Gateway API specification.
//
// +kubebuilder:object:generate=false
type GatewayAPI struct {
	GatewayClasses  []*gwv1.GatewayClass
	Gateways        []*gwv1.Gateway
	HTTPRoutes      []*gwv1.HTTPRoute
	GRPCRoutes      []*gwv1.GRPCRoute
	TLSRoutes       []*gwv1.TLSRoute
	TCPRoutes       []*gwv1.TCPRoute
	ReferenceGrants []*gwv1beta1.ReferenceGrant
	// NamespaceLabels are the labels of every namespace, for listeners'
	// allowedRoutes namespace selectors.
	NamespaceLabels map[string]map[string]string
}

// GatewayAPIStatus is the status Gluon owes the Gateway API objects it
// serves: only GatewayClasses with its controllerName, the Gateways of
// those classes, and the parent statuses of routes (HTTP, gRPC, TLS, TCP) for
// those Gateways.
// Conditions carry no LastTransitionTime: the status writer sets it, so
// that translation stays a pure function.
//
// +kubebuilder:object:generate=false
type GatewayAPIStatus struct {
	GatewayClasses map[string]gwv1.GatewayClassStatus
	Gateways       map[types.NamespacedName]gwv1.GatewayStatus
	HTTPRoutes     map[types.NamespacedName][]gwv1.RouteParentStatus
	GRPCRoutes     map[types.NamespacedName][]gwv1.RouteParentStatus
	TLSRoutes      map[types.NamespacedName][]gwv1.RouteParentStatus
	TCPRoutes      map[types.NamespacedName][]gwv1.RouteParentStatus
}
