package api

import (
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
	ReferenceGrants []*gwv1beta1.ReferenceGrant
	// NamespaceLabels are the labels of every namespace, for listeners'
	// allowedRoutes namespace selectors.
	NamespaceLabels map[string]map[string]string
}
