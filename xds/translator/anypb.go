package translator

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// packAny packs m into an Any with map entries in key order. anypb.New
// writes maps in Go's random order, so the TypedStruct of a golang filter
// config came out as different bytes, and a different snapshot version,
// for identical input.
func packAny(m proto.Message) (*anypb.Any, error) {
	a := &anypb.Any{}
	if err := anypb.MarshalFrom(a, m, proto.MarshalOptions{Deterministic: true}); err != nil {
		return nil, err
	}
	return a, nil
}
