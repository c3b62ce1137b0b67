package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	commonfaultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// faultFeature is Envoy's fault filter, first of all (the fault stage), on
// listeners with a faulty route; the faults themselves are per route.
var faultFeature = feature{
	name: "fault",
	filters: func(_ *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		if !anyRoute(l, func(r *ir.Route) bool { return r.Fault != nil }) {
			return nil, nil
		}
		return []httpFilter{{stage: StageFault, name: wellknown.Fault, config: &faultv3.HTTPFault{}}}, nil
	},
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) (err error) {
		if r.Fault != nil {
			out.TypedPerFilterConfig, err = withPackedConfig(out.TypedPerFilterConfig, wellknown.Fault, httpFault(r.Fault))
		}
		return err
	},
}

func httpFault(f *ir.Fault) *faultv3.HTTPFault {
	out := &faultv3.HTTPFault{}
	if f.AbortStatus != 0 {
		out.Abort = &faultv3.FaultAbort{ErrorType: &faultv3.FaultAbort_HttpStatus{HttpStatus: f.AbortStatus}, Percentage: perMillion(f.AbortPerMillion)}
	}
	if f.Delay > 0 {
		out.Delay = &commonfaultv3.FaultDelay{FaultDelaySecifier: &commonfaultv3.FaultDelay_FixedDelay{FixedDelay: durationpb.New(f.Delay.D())},
			Percentage: perMillion(f.DelayPerMillion)}
	}
	return out
}

func perMillion(n uint32) *typev3.FractionalPercent {
	return &typev3.FractionalPercent{Numerator: n, Denominator: typev3.FractionalPercent_MILLION}
}
