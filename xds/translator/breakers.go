package translator

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// circuitBreakersFeature sets a cluster's default-priority thresholds.
var circuitBreakersFeature = feature{
	name: "circuit breakers",
	cluster: func(out *clusterv3.Cluster, c *ir.Cluster) error {
		cb := c.CircuitBreakers
		if cb == nil {
			return nil
		}
		out.CircuitBreakers = &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			Priority:           corev3.RoutingPriority_DEFAULT,
			MaxConnections:     uint32Value(cb.MaxConnections),
			MaxPendingRequests: uint32Value(cb.MaxPendingRequests),
			MaxRequests:        uint32Value(cb.MaxRequests),
			MaxRetries:         uint32Value(cb.MaxRetries),
			RetryBudget:        retryBudget(cb.RetryBudget),
		}}}
		return nil
	},
}

func retryBudget(b *ir.RetryBudget) *clusterv3.CircuitBreakers_Thresholds_RetryBudget {
	if b == nil {
		return nil
	}
	out := &clusterv3.CircuitBreakers_Thresholds_RetryBudget{MinRetryConcurrency: uint32Value(b.MinRetryConcurrency)}
	if b.BudgetPercent != nil {
		out.BudgetPercent = &typev3.Percent{Value: *b.BudgetPercent}
	}
	return out
}
