package gateway

import (
	"math"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// fault is a validated FaultInjection in the IR; nil when there is none.
func fault(f *api.FaultInjection) *ir.Fault {
	if f == nil {
		return nil
	}
	out := &ir.Fault{}
	if a := f.Abort; a != nil {
		out.AbortStatus, out.AbortPerMillion = a.HTTPStatus, perMillion(a.Percentage)
	}
	if d := f.Delay; d != nil && d.FixedDelay != nil {
		out.Delay, out.DelayPerMillion = ir.Duration(d.FixedDelay.Duration), perMillion(d.Percentage)
	}
	return out
}

// perMillion turns Gloo's percentage into Envoy's finest fraction.
func perMillion(percent float64) uint32 {
	return uint32(math.Round(percent * 10_000))
}
