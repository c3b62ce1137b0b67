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
}

// HTTPGateway selects virtual services by reference or by labels; with
// neither, it serves every virtual service.
type HTTPGateway struct {
	VirtualServices          []ResourceRef     `json:"virtualServices,omitempty"`
	VirtualServiceSelector   map[string]string `json:"virtualServiceSelector,omitempty"`
	VirtualServiceNamespaces []string          `json:"virtualServiceNamespaces,omitempty"`
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
