package gateway

import (
	"fmt"
	"net"
	"strconv"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// ListenerName is the Envoy listener (and route configuration) name for a
// bind address, Gloo's convention.
func ListenerName(addr string, port uint32) string {
	return "listener-" + addr + "-" + strconv.Itoa(int(port))
}

// listeners builds one listener per gateway of a proxy, oldest first. Two
// gateways may not bind the same address and port: the younger one is
// rejected, so that a new gateway never takes a serving port.
func (t *translation) listeners(gws []*api.Gateway) ([]*ir.Listener, map[string]api.Key) {
	var out []*ir.Listener
	owners := map[string]api.Key{}
	bound := map[string]*api.Gateway{}
	for _, g := range gws {
		addr := net.JoinHostPort(g.Spec.BindAddress, strconv.Itoa(int(g.Spec.BindPort)))
		if first, ok := bound[addr]; ok {
			t.reports.Reject(api.KeyOf(g), api.Problem{Code: api.BindAddressConflict, Path: "spec.bindPort",
				Message: fmt.Sprintf("bind address %s is already used by Gateway %s/%s", addr, first.Namespace, first.Name)})
			continue
		}
		logs, problem := accessLogs(g)
		if problem != nil {
			t.reports.Reject(api.KeyOf(g), *problem)
			continue
		}
		bound[addr] = g
		var vhs []*ir.VirtualHost
		var vss []*api.VirtualService
		if g.Spec.TCPGateway == nil {
			vhs, vss = t.gatewayVirtualHosts(g)
		}
		l := &ir.Listener{
			Name:         ListenerName(g.Spec.BindAddress, g.Spec.BindPort),
			Address:      g.Spec.BindAddress,
			Port:         g.Spec.BindPort,
			Origin:       originOf(g, ""),
			VirtualHosts: vhs,
			AccessLogs:   logs,
		}
		switch {
		case g.Spec.TCPGateway != nil:
			l.TCPHosts = t.tcpHosts(g)
		case g.Spec.SSL:
			l.VirtualHosts, l.TLS = t.httpsVirtualHosts(g, vss, vhs)
		}
		connectionManagerSettings(l, g.Spec.HTTPGateway)
		l.Tracing = t.tracing(g)
		listenerOptions(l, g)
		out = append(out, l)
		owners[l.Name] = api.KeyOf(g)
	}
	return out, owners
}

// gatewayVirtualHosts returns the virtual hosts a gateway serves, with
// their virtual services: the HTTPS ones (with an sslConfig) on an ssl
// gateway, the others elsewhere, as in Gloo. A domain may be served by one
// virtual service only: the oldest keeps it, a younger one that repeats it
// is rejected on this gateway.
func (t *translation) gatewayVirtualHosts(g *api.Gateway) ([]*ir.VirtualHost, []*api.VirtualService) {
	var out []*ir.VirtualHost
	var served []*api.VirtualService
	owner := map[string]*api.VirtualService{}
	selected := t.selectVirtualServices(g)
	api.SortByAge(selected)
	for _, vs := range selected {
		if (vs.Spec.SSLConfig != nil) != g.Spec.SSL {
			continue
		}
		vh := t.vhosts[api.ResourceRef{Name: vs.Name, Namespace: vs.Namespace}]
		if conflict := firstConflict(vh.Domains, owner); conflict != "" {
			o := owner[conflict]
			t.reports.Reject(api.KeyOf(vs), api.Problem{Code: api.DomainConflict, Path: "spec.virtualHost.domains",
				Message: fmt.Sprintf("domain %q is already served by VirtualService %s/%s on Gateway %s/%s", conflict, o.Namespace, o.Name, g.Namespace, g.Name)})
			continue
		}
		for _, d := range vh.Domains {
			owner[d] = vs
		}
		out, served = append(out, vh), append(served, vs)
	}
	return out, served
}

func firstConflict(domains []string, owner map[string]*api.VirtualService) string {
	for _, d := range domains {
		if _, ok := owner[d]; ok {
			return d
		}
	}
	return ""
}

// selectVirtualServices resolves a gateway's references or selector; with
// neither it takes every virtual service in its namespaces. Virtual
// services generated from HTTPRoutes are only served by the Gateway API
// Gateways that reference them.
func (t *translation) selectVirtualServices(g *api.Gateway) []*api.VirtualService {
	h := g.Spec.HTTPGateway
	if h == nil {
		h = &api.HTTPGateway{}
	}
	if len(h.VirtualServices) > 0 {
		return t.referencedVirtualServices(g, h.VirtualServices)
	}
	var out []*api.VirtualService
	for _, vs := range t.res.VirtualServices {
		if !isGenerated(vs.Labels) && inNamespaces(vs.Namespace, h.VirtualServiceNamespaces) && hasLabels(vs.Labels, h.VirtualServiceSelector) {
			out = append(out, vs)
		}
	}
	return out
}

func (t *translation) referencedVirtualServices(g *api.Gateway, refs []api.ResourceRef) []*api.VirtualService {
	byRef := map[api.ResourceRef]*api.VirtualService{}
	for _, vs := range t.res.VirtualServices {
		byRef[api.ResourceRef{Name: vs.Name, Namespace: vs.Namespace}] = vs
	}
	var out []*api.VirtualService
	for _, r := range refs {
		r = r.Ref(g.Namespace)
		vs, ok := byRef[r]
		if !ok {
			t.reports.Warn(api.KeyOf(g), api.Problem{Code: api.VirtualServiceNotFound, Path: "spec.httpGateway.virtualServices",
				Message: fmt.Sprintf("VirtualService %s not found", r)})
			continue
		}
		out = append(out, vs)
	}
	return out
}

func inNamespaces(ns string, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		if a == "*" || a == ns {
			return true
		}
	}
	return false
}

// hasLabels: labels hold every key of selector, with its value (an empty
// value too: as in a Kubernetes equality selector, the key must be there).
func hasLabels(labels, selector map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// connectionManagerSettings copies a gateway's HTTP connection manager
// settings onto its listener.
func connectionManagerSettings(l *ir.Listener, h *api.HTTPGateway) {
	if h == nil || h.Options == nil || h.Options.HTTPConnectionManagerSettings == nil {
		return
	}
	s := h.Options.HTTPConnectionManagerSettings
	l.NoWebSockets = !s.WebSockets()
	if s.StreamIdleTimeout != nil {
		l.StreamIdleTimeout = ptr(ir.Duration(s.StreamIdleTimeout.Duration))
	}
	if s.RequestTimeout != nil {
		l.RequestTimeout = ptr(ir.Duration(s.RequestTimeout.Duration))
	}
	l.KeepDotSegments = s.NormalizePath != nil && !*s.NormalizePath
	l.MergeSlashes = s.MergeSlashes
}

func ptr[T any](v T) *T { return &v }
