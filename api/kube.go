package api

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// KubeUpstream is one port of a Kubernetes Service (Gloo's `kube` upstream);
// its endpoints come from the Service's EndpointSlices.
type KubeUpstream struct {
	ServiceName      string `json:"serviceName"`
	ServiceNamespace string `json:"serviceNamespace"`
	ServicePort      uint32 `json:"servicePort"`
	// ServiceSpec says where the service's functions are described; by
	// default its endpoints are probed for an OpenAPI document.
	ServiceSpec *ServiceSpec `json:"serviceSpec,omitempty"`
}

// DiscoveredLabel marks an Upstream written by upstream discovery (UDS); its
// value is the discoverer ("kube").
const DiscoveredLabel = "discovery.gluon.dev/discovered-by"

// DiscoveryLabel, on a Service or its namespace (as a label or an
// annotation), opts it out of upstream discovery ("disabled") or, in
// whitelist mode, in ("enabled").
const DiscoveryLabel = "discovery.gluon.dev/upstream_discovery"

// ServiceEndpoints are the endpoints of one Kubernetes Service, by service
// port, joined from the Service and its EndpointSlices.
type ServiceEndpoints struct {
	Namespace string        `json:"namespace"`
	Service   string        `json:"service"`
	Ports     []ServicePort `json:"ports,omitempty"`
}

// ServicePort is one port of a Service and the ready addresses behind it.
type ServicePort struct {
	Port      uint32            `json:"port"`
	Name      string            `json:"name,omitempty"`
	Endpoints []EndpointAddress `json:"endpoints,omitempty"`
}

// EndpointAddress is one ready address and its target port.
type EndpointAddress struct {
	IP   string `json:"ip"`
	Port uint32 `json:"port"`
}

// EndpointsFor returns the addresses behind a Service port, nil if unknown.
func (r *Resources) EndpointsFor(namespace, service string, port uint32) []EndpointAddress {
	i := sort.Search(len(r.ServiceEndpoints), func(i int) bool {
		e := r.ServiceEndpoints[i]
		return e.Namespace > namespace || (e.Namespace == namespace && e.Service >= service)
	})
	if i == len(r.ServiceEndpoints) || r.ServiceEndpoints[i].Namespace != namespace || r.ServiceEndpoints[i].Service != service {
		return nil
	}
	for _, p := range r.ServiceEndpoints[i].Ports {
		if p.Port == port {
			return p.Endpoints
		}
	}
	return nil
}

func sortServiceEndpoints(s []ServiceEndpoints) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Namespace != s[j].Namespace {
			return s[i].Namespace < s[j].Namespace
		}
		return s[i].Service < s[j].Service
	})
}

func validateKube(f *fieldErrors, path string, k *KubeUpstream) {
	for field, v := range map[string]string{".serviceName": k.ServiceName, ".serviceNamespace": k.ServiceNamespace} {
		if errs := validation.IsDNS1123Label(v); len(errs) > 0 {
			f.add(path+field, "%q is not a Kubernetes name: %s", v, strings.Join(errs, "; "))
		}
	}
	if k.ServicePort == 0 || k.ServicePort > 65535 {
		f.add(path+".servicePort", "must be between 1 and 65535, got %d", k.ServicePort)
	}
	validateServiceSpec(f, path+".serviceSpec", k.ServiceSpec)
}

// TypeName names the upstream's type, as status and `get` print it.
func (u *Upstream) TypeName() string {
	switch {
	case u.Spec.Kube != nil:
		return "kube"
	case u.Spec.AWS != nil:
		return "aws"
	case u.Spec.Azure != nil:
		return "azure"
	case u.Spec.Static != nil:
		return "static"
	}
	return ""
}
