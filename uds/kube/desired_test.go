package kube

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/gluon-gateway/gluon/api"
)

func TestDesiredSkipsOptedOutAndNonTCP(t *testing.T) {
	svc := func(ns, name string, labels, annotations map[string]string, ports ...corev1.ServicePort) corev1.Service {
		s := corev1.Service{}
		s.Namespace, s.Name, s.Labels, s.Annotations = ns, name, labels, annotations
		s.Spec.Ports = ports
		return s
	}
	tcp := corev1.ServicePort{Port: 80}
	udp := corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP}
	off := map[string]string{api.DiscoveryLabel: "disabled"}
	ext := svc("a", "ext", nil, nil, tcp)
	ext.Spec.Type = corev1.ServiceTypeExternalName
	got := Desired(OptOut, []corev1.Service{
		svc("a", "web", nil, nil, tcp, udp),
		svc("a", "labelled-off", off, nil, tcp),
		svc("a", "annotated-off", nil, off, tcp),
		svc("b", "in-quiet-ns", nil, nil, tcp),
		svc("kube-system", "dns", nil, nil, tcp),
		ext,
	}, map[string]map[string]string{"b": off}, "gluon-system")
	var names []string
	for _, u := range got {
		names = append(names, u.Namespace+"/"+u.Name)
	}
	if strings.Join(names, ",") != "gluon-system/a-web-80" {
		t.Fatalf("desired %v", names)
	}
}

func TestDesiredOptInTakesOnlyEnabled(t *testing.T) {
	svc := func(ns, name string, labels map[string]string) corev1.Service {
		s := corev1.Service{}
		s.Namespace, s.Name, s.Labels = ns, name, labels
		s.Spec.Ports = []corev1.ServicePort{{Port: 80}}
		return s
	}
	on := map[string]string{api.DiscoveryLabel: "enabled"}
	off := map[string]string{api.DiscoveryLabel: "disabled"}
	got := Desired(OptIn, []corev1.Service{
		svc("a", "plain", nil),
		svc("a", "enabled", on),
		svc("b", "in-enabled-ns", nil),
		svc("b", "disabled-in-enabled-ns", off),
	}, map[string]map[string]string{"b": on}, "gluon-system")
	var names []string
	for _, u := range got {
		names = append(names, u.Name)
	}
	if strings.Join(names, ",") != "a-enabled-80,b-in-enabled-ns-80" {
		t.Fatalf("desired %v", names)
	}
}
