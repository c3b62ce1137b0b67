package gateway

import (
	"net"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// defaultConnectTimeout is used when an upstream sets none.
const defaultConnectTimeout = 5 * time.Second

// ClusterName is the Envoy cluster name of an upstream, Gloo's convention.
func ClusterName(ref api.ResourceRef) string { return ref.Name + "_" + ref.Namespace }

func (t *translation) clusters() []*ir.Cluster {
	out := make([]*ir.Cluster, 0, len(t.res.Upstreams))
	for _, u := range t.res.Upstreams {
		c := upstreamCluster(u, &t.res)
		t.clientCertificate(u, c)
		out = append(out, c)
	}
	return out
}

// routedClusters keeps the clusters a proxy's routes send to (or mirror
// to, or check requests with): a proxy learns nothing of upstreams it does not route to, their
// client keys included.
func routedClusters(listeners []*ir.Listener, all []*ir.Cluster, extAuthz *ir.ExtAuthz) []*ir.Cluster {
	used := map[string]bool{}
	if extAuthz != nil {
		used[extAuthz.Cluster] = true
	}
	for _, l := range listeners {
		if l.Tracing != nil {
			used[l.Tracing.Cluster] = true
		}
		for _, h := range l.TCPHosts {
			for _, d := range h.Destinations {
				used[d.Cluster] = true
			}
		}
		for _, vh := range l.VirtualHosts {
			for _, p := range vh.JWTProviders {
				if p.RemoteJWKS != nil {
					used[p.RemoteJWKS.Cluster] = true
				}
			}
			for _, r := range vh.Routes {
				if f := r.Forward; f != nil {
					for _, d := range f.Destinations {
						used[d.Cluster] = true
					}
					for _, m := range f.Mirrors {
						used[m.Cluster] = true
					}
				}
			}
		}
	}
	out := make([]*ir.Cluster, 0, len(used))
	for _, c := range all {
		if used[c.Name] {
			out = append(out, c)
		}
	}
	return out
}

func upstreamCluster(u *api.Upstream, res *api.Resources) *ir.Cluster {
	c := &ir.Cluster{
		Name:           ClusterName(api.ResourceRef{Name: u.Name, Namespace: u.Namespace}),
		Origin:         originOf(u, "spec"),
		Discovery:      ir.DiscoveryEDS,
		ConnectTimeout: ir.Duration(defaultConnectTimeout),
	}
	if u.Spec.ConnectTimeout != nil {
		c.ConnectTimeout = ir.Duration(u.Spec.ConnectTimeout.Duration)
	}
	clusterPolicies(c, &u.Spec)
	if u.Spec.AWS != nil {
		host, port, useTLS := awsEndpoint(u.Spec.AWS)
		return remoteCluster(c, host, port, useTLS)
	}
	if u.Spec.Azure != nil {
		host, port, useTLS := azureAppHost(u.Spec.Azure)
		return remoteCluster(c, host, port, useTLS)
	}
	if cu := u.Spec.Consul; cu != nil {
		// Always EDS: a health change is then an endpoint push alone.
		c.Endpoints = ConsulEndpoints(res, cu)
		c.TLS = upstreamTLS(u)
		return c
	}
	if k := u.Spec.Kube; k != nil {
		// Always EDS: an EndpointSlice change is then an endpoint push alone.
		for _, e := range res.EndpointsFor(k.ServiceNamespace, k.ServiceName, k.ServicePort) {
			c.Endpoints = append(c.Endpoints, ir.Endpoint{Host: e.IP, Port: e.Port, Weight: 1})
		}
		c.TLS = upstreamTLS(u)
		return c
	}
	s := u.Spec.Static
	for _, h := range s.Hosts {
		w := uint32(1)
		if h.LoadBalancingWeight != nil {
			w = *h.LoadBalancingWeight
		}
		// Hostnames need resolving in the proxy; only all-IP upstreams can
		// have their endpoints served (and changed) through EDS.
		if net.ParseIP(h.Addr) == nil {
			c.Discovery = ir.DiscoveryStrictDNS
		}
		c.Endpoints = append(c.Endpoints, ir.Endpoint{Host: h.Addr, Port: h.Port, Weight: w})
	}
	c.TLS = upstreamTLS(u)
	return c
}

// ConsulEndpoints are a consul upstream's endpoints: the instances of its
// service that pass their checks, in its datacenters, with its tags.
func ConsulEndpoints(res *api.Resources, cu *api.ConsulUpstream) []ir.Endpoint {
	var out []ir.Endpoint
	for _, e := range res.ConsulEndpoints(cu) {
		out = append(out, ir.Endpoint{Host: e.IP, Port: e.Port, Weight: 1})
	}
	return out
}

func upstreamTLS(u *api.Upstream) *ir.TLS {
	if ssl := u.Spec.SSLConfig; ssl != nil {
		return &ir.TLS{SNI: ssl.Sni}
	}
	s := u.Spec.Static
	if s == nil || s.UseTLS == nil || !*s.UseTLS {
		return nil
	}
	sni := s.Hosts[0].SniAddr
	if sni == "" && net.ParseIP(s.Hosts[0].Addr) == nil {
		sni = s.Hosts[0].Addr
	}
	return &ir.TLS{SNI: sni}
}
