package translator

import (
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// defaultBaseInterval is Envoy's retry back-off base when none is set.
const defaultBaseInterval = 25 * time.Millisecond

func retryPolicy(r *ir.Retry) *routev3.RetryPolicy {
	if r == nil {
		return nil
	}
	p := &routev3.RetryPolicy{RetryOn: r.RetryOn, NumRetries: wrapperspb.UInt32(r.NumRetries), RetriableStatusCodes: r.RetriableStatusCodes}
	p.PerTryTimeout = optDuration(r.PerTryTimeout)
	if r.BaseInterval != nil || r.MaxInterval != nil {
		// Envoy requires a base interval whenever back-off is configured.
		base := defaultBaseInterval
		if r.BaseInterval != nil {
			base = r.BaseInterval.D()
		}
		p.RetryBackOff = &routev3.RetryPolicy_RetryBackOff{BaseInterval: durationpb.New(base)}
		p.RetryBackOff.MaxInterval = optDuration(r.MaxInterval)
	}
	return p
}
