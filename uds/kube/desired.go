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

// Mode says which Services are discovered.
type Mode string

const (
	// OptOut discovers every Service but those, or those in namespaces,
	// labelled (or, for a Service, annotated) disabled. Gloo's default.
	OptOut Mode = "opt-out"
	// OptIn discovers only Services labelled or annotated enabled, or in
	// namespaces labelled enabled.
	OptIn Mode = "opt-in"
)

// Desired lists the Upstreams that the Services call for, sorted by name,
// in namespace writeNS. namespaceLabels are every namespace's labels.
func Desired(mode Mode, services []corev1.Service, namespaceLabels map[string]map[string]string, writeNS string) []*api.Upstream {
	var out []*api.Upstream
	for i := range services {
		svc := &services[i]
		if !discoverable(mode, svc, namespaceLabels[svc.Namespace]) {
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

// discoverable: the Service's own say (label, then annotation) wins over
// its namespace's label, which wins over the mode.
func discoverable(mode Mode, svc *corev1.Service, nsLabels map[string]string) bool {
	if skippedNamespaces[svc.Namespace] || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return false
	}
	for _, v := range []string{svc.Labels[api.DiscoveryLabel], svc.Annotations[api.DiscoveryLabel], nsLabels[api.DiscoveryLabel]} {
		switch v {
		case "disabled":
			return false
		case "enabled":
			return true
		}
	}
	return mode != OptIn
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

// String, Set and Type make Mode a command-line flag.
func (m *Mode) String() string { return string(*m) }

// Set accepts opt-out or opt-in.
func (m *Mode) Set(v string) error {
	switch Mode(v) {
	case OptOut, OptIn:
		*m = Mode(v)
		return nil
	}
	return fmt.Errorf("want %s or %s, got %q", OptOut, OptIn, v)
}

// Type names the flag's values in help.
func (*Mode) Type() string { return "opt-out|opt-in" }
