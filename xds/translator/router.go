package translator

import (
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// routerFeature is the terminal filter every HTTP listener ends with.
var routerFeature = feature{name: "router", filters: routerFilter}

// routerFilter is the terminal filter.
func routerFilter(*ir.Proxy, *ir.Listener) ([]httpFilter, error) {
	return []httpFilter{{stage: StageRoute, name: wellknown.Router, config: &routerv3.Router{}}}, nil
}
