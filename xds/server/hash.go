package server

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// ProxyHash maps an Envoy node to the proxy whose snapshot it gets: the
// node metadata field "role" (Gloo's convention, "<namespace>~<proxy>" or
// just "<proxy>"), else node.cluster, else node.id.
type ProxyHash struct{}

// ID implements cache.NodeHash.
func (ProxyHash) ID(node *corev3.Node) string { return ProxyOf(node) }

// ProxyOf returns the proxy name a node asks for.
func ProxyOf(node *corev3.Node) string {
	if node == nil {
		return ""
	}
	if role := node.GetMetadata().GetFields()["role"].GetStringValue(); role != "" {
		if i := strings.LastIndex(role, "~"); i >= 0 {
			return role[i+1:]
		}
		return role
	}
	if node.GetCluster() != "" {
		return node.GetCluster()
	}
	return node.GetId()
}
