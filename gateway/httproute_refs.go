package gateway

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// backendKinds are the group and kind of the backends Gluon resolves.
var backendKinds = map[[2]string]bool{{"", "Service"}: true, {api.Group, string(api.KindUpstream)}: true}

// resolveBackend turns a backend reference into the Gluon upstream that
// serves it: a gluon.dev Upstream as it is, a Service port through a
// generated kube upstream. When it cannot, the route's ResolvedRefs says
// why.
func (c *gatewayAPI) resolveBackend(rs *routeState, b gwv1.BackendObjectReference) (api.ResourceRef, bool) {
	group, kind := "", "Service"
	if b.Group != nil {
		group = string(*b.Group)
	}
	if b.Kind != nil {
		kind = string(*b.Kind)
	}
	ns := rs.key.Namespace
	if b.Namespace != nil {
		ns = string(*b.Namespace)
	}
	target := types.NamespacedName{Namespace: ns, Name: string(b.Name)}
	var problem routeProblem
	switch {
	case !backendKinds[[2]string{group, kind}]:
		problem = routeProblem{gwv1.RouteReasonInvalidKind, fmt.Sprintf("backend %s: kind %s/%s is not supported", target, group, kind)}
	case !c.permitted(string(rs.kind), rs.key.Namespace, group, kind, target):
		problem = routeProblem{gwv1.RouteReasonRefNotPermitted, fmt.Sprintf("backend %s %s: no ReferenceGrant in %s allows it", kind, target, ns)}
	case group == api.Group:
		ref := api.ResourceRef{Namespace: ns, Name: target.Name}
		if c.userUpstreams[ref] != nil {
			return ref, true
		}
		problem = routeProblem{gwv1.RouteReasonBackendNotFound, fmt.Sprintf("backend Upstream %s not found", target)}
	default:
		ref, msg := c.serviceUpstream(rs, target, b.Port)
		if msg == "" {
			return ref, true
		}
		problem = routeProblem{gwv1.RouteReasonBackendNotFound, msg}
	}
	rs.refProblems = append(rs.refProblems, problem)
	return api.ResourceRef{}, false
}

// permitted applies ReferenceGrants: a reference from an object of
// fromKind (an HTTPRoute, a Gateway) to another namespace needs one there
// that allows it.
func (c *gatewayAPI) permitted(fromKind, fromNS, group, kind string, to types.NamespacedName) bool {
	if fromNS == to.Namespace {
		return true
	}
	for _, g := range c.in.ReferenceGrants {
		if g.Namespace != to.Namespace {
			continue
		}
		from := slices.ContainsFunc(g.Spec.From, func(f gwv1.ReferenceGrantFrom) bool {
			return f.Group == gwv1.GroupName && string(f.Kind) == fromKind && string(f.Namespace) == fromNS
		})
		toTarget := slices.ContainsFunc(g.Spec.To, func(t gwv1.ReferenceGrantTo) bool {
			return string(t.Group) == group && string(t.Kind) == kind && (t.Name == nil || string(*t.Name) == to.Name)
		})
		if from && toTarget {
			return true
		}
	}
	return false
}

// GeneratedUpstreamName names the kube upstream generated for a Service
// port an HTTPRoute sends traffic to; it lives in the Service's namespace.
func GeneratedUpstreamName(service types.NamespacedName, port int32) string {
	return fmt.Sprintf("httproute-%s-%s-%d", service.Namespace, service.Name, port)
}

// GeneratedGRPCUpstreamName names the HTTP/2 upstream generated for a
// Service port that GRPCRoutes send to.
func GeneratedGRPCUpstreamName(service types.NamespacedName, port int32) string {
	return fmt.Sprintf("grpcroute-%s-%s-%d", service.Namespace, service.Name, port)
}

// serviceUpstream returns the kube upstream of a Service port, generating
// it on first use. An upstream of the same name written by a user wins.
func (c *gatewayAPI) serviceUpstream(rs *routeState, svc types.NamespacedName, port *gwv1.PortNumber) (api.ResourceRef, string) {
	if port == nil {
		return api.ResourceRef{}, fmt.Sprintf("backend Service %s: a port is required", svc)
	}
	s := c.services[svc]
	if s == nil {
		return api.ResourceRef{}, fmt.Sprintf("backend Service %s not found", svc)
	}
	if !slices.ContainsFunc(s.Ports, func(p api.ServicePort) bool { return p.Port == uint32(*port) }) {
		return api.ResourceRef{}, fmt.Sprintf("backend Service %s has no port %d", svc, *port)
	}
	name := GeneratedUpstreamName(svc, *port)
	if rs.kind == grpcRouteKind.Kind {
		name = GeneratedGRPCUpstreamName(svc, *port)
	}
	ref := api.ResourceRef{Namespace: svc.Namespace, Name: name}
	if c.userUpstreams[ref] != nil {
		return ref, ""
	}
	if c.gen.upstreams[ref] == nil {
		u := &api.Upstream{Spec: api.UpstreamSpec{Kube: &api.KubeUpstream{ServiceName: svc.Name, ServiceNamespace: svc.Namespace, ServicePort: uint32(*port)},
			UseHTTP2: rs.kind == grpcRouteKind.Kind}}
		u.Name, u.Namespace, u.Labels = ref.Name, ref.Namespace, generatedLabels(generatedFromHTTPRoute)
		c.gen.upstreams[ref] = u
	}
	if users := c.gen.upstreamUsers[ref]; !slices.Contains(users, rs) {
		c.gen.upstreamUsers[ref] = append(users, rs)
	}
	return ref, ""
}
