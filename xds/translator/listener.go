package translator

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// listener builds an HTTP listener whose routes come over RDS (via ADS), so
// route changes never drain connections; an HTTPS one has a filter chain
// per server-name set, each with its own routes; a TCP one a chain per
// TCP host.
func listener(p *ir.Proxy, l *ir.Listener) (*listenerv3.Listener, error) {
	out := &listenerv3.Listener{
		Name:                          l.Name,
		Address:                       socketAddress(l.Address, l.Port),
		PerConnectionBufferLimitBytes: uint32Value(l.BufferLimitBytes),
	}
	if len(l.TCPHosts) > 0 {
		var err error
		if anySNI(l) {
			out.ListenerFilters, err = tlsInspector()
		}
		if err == nil {
			out.FilterChains, err = tcpFilterChains(l)
		}
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", l.Name, err)
		}
		return out, nil
	}
	filters, err := httpFilters(p, l)
	if err != nil {
		return nil, fmt.Errorf("listener %q: %w", l.Name, err)
	}
	if len(l.TLS) > 0 {
		if out.ListenerFilters, err = tlsInspector(); err == nil {
			out.FilterChains, err = httpsFilterChains(l, filters)
		}
	} else {
		var hcm *listenerv3.Filter
		hcm, err = connectionManager(l, filters, l.Name)
		out.FilterChains = []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{hcm}}}
	}
	if err != nil {
		return nil, fmt.Errorf("listener %q: %w", l.Name, err)
	}
	return out, nil
}

// connectionManager is the listener's HTTP connection manager, reading its
// routes from the route configuration routes.
func connectionManager(l *ir.Listener, filters []*hcmv3.HttpFilter, routes string) (*listenerv3.Filter, error) {
	hcm := &hcmv3.HttpConnectionManager{
		CodecType:  hcmv3.HttpConnectionManager_AUTO,
		StatPrefix: "http",
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource:    adsSource(),
			RouteConfigName: routes,
		}},
		// Domains are written without ports; match them whatever port the
		// client put in Host.
		StripPortMode:    &hcmv3.HttpConnectionManager_StripAnyHostPort{StripAnyHostPort: true},
		UseRemoteAddress: wrapperspb.Bool(true),
		HttpFilters:      filters,
		// Routes match the path with its dot segments resolved, so that
		// /public/../admin cannot slip past an /admin route.
		NormalizePath:  wrapperspb.Bool(!l.KeepDotSegments),
		MergeSlashes:   l.MergeSlashes,
		UpgradeConfigs: listenerUpgrades(l),
	}
	hcm.StreamIdleTimeout, hcm.RequestTimeout = optDuration(l.StreamIdleTimeout), optDuration(l.RequestTimeout)
	logs, err := accessLogs(l)
	if err != nil {
		return nil, err
	}
	hcm.AccessLog = logs
	if hcm.Tracing, err = tracing(l); err != nil {
		return nil, err
	}
	cfg, err := packAny(hcm)
	if err != nil {
		return nil, err
	}
	return &listenerv3.Filter{Name: wellknown.HTTPConnectionManager, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: cfg}}, nil
}

// socketAddressParts are the four messages of a socket address, allocated
// as one: a push has one address per endpoint, thousands of them.
type socketAddressParts struct {
	address corev3.Address
	oneof   corev3.Address_SocketAddress
	socket  corev3.SocketAddress
	port    corev3.SocketAddress_PortValue
}

func socketAddress(addr string, port uint32) *corev3.Address {
	p := &socketAddressParts{}
	p.port.PortValue = port
	p.socket.Protocol, p.socket.Address, p.socket.PortSpecifier = corev3.SocketAddress_TCP, addr, &p.port
	p.oneof.SocketAddress = &p.socket
	p.address.Address = &p.oneof
	return &p.address
}

// adsSource says "this comes over the same ADS stream".
func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ResourceApiVersion:    corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
	}
}
