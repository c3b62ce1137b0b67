package translator

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// tcpFilterChains are a TCP listener's chains: one per host, chosen by the
// SNI the TLS inspector reads (passthrough), each a tcp_proxy to its
// cluster or weighted clusters.
func tcpFilterChains(l *ir.Listener) ([]*listenerv3.FilterChain, error) {
	out := make([]*listenerv3.FilterChain, 0, len(l.TCPHosts))
	for _, h := range l.TCPHosts {
		proxy := &tcpproxyv3.TcpProxy{StatPrefix: "tcp_" + h.Name}
		if len(h.Destinations) == 1 {
			proxy.ClusterSpecifier = &tcpproxyv3.TcpProxy_Cluster{Cluster: h.Destinations[0].Cluster}
		} else {
			wc := &tcpproxyv3.TcpProxy_WeightedCluster{}
			for _, d := range h.Destinations {
				wc.Clusters = append(wc.Clusters, &tcpproxyv3.TcpProxy_WeightedCluster_ClusterWeight{Name: d.Cluster, Weight: d.Weight})
			}
			proxy.ClusterSpecifier = &tcpproxyv3.TcpProxy_WeightedClusters{WeightedClusters: wc}
		}
		cfg, err := packAny(proxy)
		if err != nil {
			return nil, err
		}
		fc := &listenerv3.FilterChain{Name: h.Name, Filters: []*listenerv3.Filter{{Name: wellknown.TCPProxy, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: cfg}}}}
		if len(h.ServerNames) > 0 {
			fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: h.ServerNames}
		}
		out = append(out, fc)
	}
	return out, nil
}

// anySNI reports whether a TCP host is chosen by server name.
func anySNI(l *ir.Listener) bool {
	for _, h := range l.TCPHosts {
		if len(h.ServerNames) > 0 {
			return true
		}
	}
	return false
}
