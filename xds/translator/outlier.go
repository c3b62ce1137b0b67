package translator

import (
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// outlierDetectionFeature sets a cluster's passive health checking.
var outlierDetectionFeature = feature{
	name: "outlier detection",
	cluster: func(out *clusterv3.Cluster, c *ir.Cluster) error {
		od := c.OutlierDetection
		if od == nil {
			return nil
		}
		out.OutlierDetection = &clusterv3.OutlierDetection{
			Consecutive_5Xx:           uint32Value(od.Consecutive5xx),
			ConsecutiveGatewayFailure: uint32Value(od.ConsecutiveGatewayFailure),
			Interval:                  optDuration(od.Interval),
			BaseEjectionTime:          optDuration(od.BaseEjectionTime),
			MaxEjectionPercent:        uint32Value(od.MaxEjectionPercent),
		}
		if od.ConsecutiveGatewayFailure != nil {
			// Envoy counts gateway failures by default but enforces none:
			// a user who sets the threshold means it to eject.
			out.OutlierDetection.EnforcingConsecutiveGatewayFailure = wrapperspb.UInt32(100)
		}
		return nil
	},
}
