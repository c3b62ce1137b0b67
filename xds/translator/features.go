package translator

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// feature is one translator feature: the hooks it needs, each written in
// the feature's own file. A hook left nil does nothing. Adding a feature
// (CORS, say) is one file with its feature value, and a line in features.
type feature struct {
	name string
	// filters returns the HTTP filters the feature needs on a listener;
	// none when no route of the listener uses it.
	filters func(*ir.Proxy, *ir.Listener) ([]httpFilter, error)
	// virtualHost and route set what the feature configures on a virtual
	// host and on a route of it.
	virtualHost func(*routev3.VirtualHost, *ir.VirtualHost) error
	route       func(*routev3.Route, *ir.Route, *ir.VirtualHost) error
	// clusters returns clusters the feature adds to the proxy (a service
	// the proxy calls); cluster sets what it configures on a cluster of
	// the IR.
	clusters func(*ir.Proxy) ([]*clusterv3.Cluster, error)
	cluster  func(*clusterv3.Cluster, *ir.Cluster) error
}

// features lists every feature once, in one ordered slice: the order its
// hooks run in, and within one filter stage the order of the filters. It
// is made once: every cluster, listener, virtual host and route of every
// push walks it.
var features = []feature{
	headersFeature,
	faultFeature,
	corsFeature,
	jwtFeature,
	apiKeyAuthFeature,
	basicAuthFeature,
	extAuthzFeature,
	compressionFeature,
	rateLimitFeature,
	bufferFeature,
	mcpFeature,
	transformationFeature,
	lambdaFeature,
	azureFeature,
	routerFeature,
	circuitBreakersFeature,
	outlierDetectionFeature,
	healthChecksFeature,
	loadBalancingFeature,
	webSocketsFeature,
	grpcFeature,
}

// anyRoute reports whether a route of the listener satisfies pred.
func anyRoute(l *ir.Listener, pred func(*ir.Route) bool) bool {
	for _, vh := range l.VirtualHosts {
		for _, r := range vh.Routes {
			if pred(r) {
				return true
			}
		}
	}
	return false
}
