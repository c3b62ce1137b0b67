package translator

import (
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// The IR's optional values as Envoy's: nil stays nil (Envoy's default).

func uint32Value(v *uint32) *wrapperspb.UInt32Value {
	if v == nil {
		return nil
	}
	return wrapperspb.UInt32(*v)
}

func uint64Value(v *uint64) *wrapperspb.UInt64Value {
	if v == nil {
		return nil
	}
	return wrapperspb.UInt64(*v)
}

func optDuration(d *ir.Duration) *durationpb.Duration {
	if d == nil {
		return nil
	}
	return durationpb.New(d.D())
}
