package kubesource

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/gluon-gateway/gluon/api"
)

// serviceEndpoints joins every Service with its EndpointSlices: for each
// service port, the ready addresses behind it and their target port. A
// Service without slices is listed with no endpoints, so that references to
// it resolve (and answer 503) rather than count as missing.
func serviceEndpoints(services []corev1.Service, slices []discoveryv1.EndpointSlice) []api.ServiceEndpoints {
	byService := map[[2]string][]*discoveryv1.EndpointSlice{}
	for i := range slices {
		s := &slices[i]
		name := s.Labels[discoveryv1.LabelServiceName]
		if name == "" || s.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		k := [2]string{s.Namespace, name}
		byService[k] = append(byService[k], s)
	}
	out := make([]api.ServiceEndpoints, 0, len(services))
	for i := range services {
		svc := &services[i]
		se := api.ServiceEndpoints{Namespace: svc.Namespace, Service: svc.Name}
		for _, p := range svc.Spec.Ports {
			if p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
				continue
			}
			se.Ports = append(se.Ports, api.ServicePort{
				Port:      uint32(p.Port),
				Name:      p.Name,
				Endpoints: readyAddresses(byService[[2]string{svc.Namespace, svc.Name}], p.Name),
			})
		}
		out = append(out, se)
	}
	return out
}

// readyAddresses lists, sorted and without duplicates, the ready endpoints
// of the slices' port named portName (slices name ports as the Service does).
func readyAddresses(slices []*discoveryv1.EndpointSlice, portName string) []api.EndpointAddress {
	seen := map[api.EndpointAddress]bool{}
	var out []api.EndpointAddress
	for _, s := range slices {
		port, ok := slicePort(s, portName)
		if !ok {
			continue
		}
		for _, e := range s.Endpoints {
			// Ready unset means ready, per the EndpointSlice API.
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, ip := range e.Addresses {
				a := api.EndpointAddress{IP: ip, Port: port}
				if !seen[a] {
					seen[a] = true
					out = append(out, a)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].IP != out[j].IP {
			return out[i].IP < out[j].IP
		}
		return out[i].Port < out[j].Port
	})
	return out
}

func slicePort(s *discoveryv1.EndpointSlice, name string) (uint32, bool) {
	for _, p := range s.Ports {
		pn := ""
		if p.Name != nil {
			pn = *p.Name
		}
		if pn == name && p.Port != nil && (p.Protocol == nil || *p.Protocol == corev1.ProtocolTCP) {
			return uint32(*p.Port), true
		}
	}
	return 0, false
}
