package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// grpcFeature lets a gRPC request's grpc-timeout set its route timeout
// (max_stream_duration.grpc_timeout_header_max).
var grpcFeature = feature{
	name: "grpc",
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) error {
		action := out.GetRoute()
		if action == nil || r.Forward == nil || r.Forward.GRPCTimeoutHeaderMax == nil {
			return nil
		}
		action.MaxStreamDuration = &routev3.RouteAction_MaxStreamDuration{GrpcTimeoutHeaderMax: optDuration(r.Forward.GRPCTimeoutHeaderMax)}
		return nil
	},
}
