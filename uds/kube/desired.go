// Package kube is upstream discovery (UDS) for Kubernetes: one Upstream per
// TCP port of every Service that is not opted out, kept in step with the
// Services without clobbering what users or function discovery added.
package kube

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/gluon-gateway/gluon/api"
)

// Discoverer is the value of api.DiscoveredLabel on the Upstreams it writes.
const Discoverer = "kube"

// skippedNamespaces hold the cluster's own services, which nobody routes to
// through a gateway (Gloo skips them too).
var skippedNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true}

// UpstreamName is Gloo's name for a discovered upstream: <ns>-<svc>-<port>.
func UpstreamName(namespace, service string, port int32) string {
	return fmt.Sprintf("%s-%s-%d", namespace, service, port)
}

// Desired lists the Upstreams that the Services call for, sorted by name,
// in namespace writeNS. namespaceLabels are every namespace's labels.
func Desired(services []corev1.Service, namespaceLabels map[string]map[string]string, writeNS string) []*api.Upstream {
	var out []*api.Upstream
	for i := range services {
		svc := &services[i]
		if !discoverable(svc, namespaceLabels[svc.Namespace]) {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
				continue
			}
			out = append(out, upstreamFor(svc, p.Port, writeNS))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// discoverable: a Service is discovered unless it, or its namespace, says
// disabled (as a label or, for the Service, an annotation).
func discoverable(svc *corev1.Service, nsLabels map[string]string) bool {
	if skippedNamespaces[svc.Namespace] || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return false
	}
	for _, v := range []string{svc.Labels[api.DiscoveryLabel], svc.Annotations[api.DiscoveryLabel], nsLabels[api.DiscoveryLabel]} {
		if v == "disabled" {
			return false
		}
	}
	return true
}

func upstreamFor(svc *corev1.Service, port int32, writeNS string) *api.Upstream {
	u := &api.Upstream{Spec: api.UpstreamSpec{Kube: &api.KubeUpstream{
		ServiceName: svc.Name, ServiceNamespace: svc.Namespace, ServicePort: uint32(port),
	}}}
	u.Name, u.Namespace = UpstreamName(svc.Namespace, svc.Name, port), writeNS
	u.Labels = ownedLabels(svc)
	return u
}

// ownedLabels are the labels UDS sets and keeps: its mark, and the Service's
// function discovery opt-in/out carried over.
func ownedLabels(svc *corev1.Service) map[string]string {
	l := map[string]string{api.DiscoveredLabel: Discoverer}
	for _, v := range []string{svc.Annotations[api.FunctionDiscoveryLabel], svc.Labels[api.FunctionDiscoveryLabel]} {
		if v != "" {
			l[api.FunctionDiscoveryLabel] = v
		}
	}
	return l
}
