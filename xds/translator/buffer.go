package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	bufferv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// defaultBufferBytes is the limit of a buffer filter that is off by default
// (Envoy requires one); routes that turn it on give their own.
const defaultBufferBytes = 1 << 20

// bufferFeature is Envoy's buffer filter at the accepted stage, before the
// filters that read bodies: on the whole listener when it buffers every
// request, else off by default and on for the routes that ask.
var bufferFeature = feature{
	name: "buffer",
	filters: func(_ *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		if l.BufferMaxRequestBytes != nil {
			return []httpFilter{{stage: StageAccepted, name: wellknown.Buffer,
				config: &bufferv3.Buffer{MaxRequestBytes: wrapperspb.UInt32(*l.BufferMaxRequestBytes)}}}, nil
		}
		if !anyRoute(l, func(r *ir.Route) bool { return r.Buffer != nil && !r.Buffer.Disabled }) {
			return nil, nil
		}
		return []httpFilter{{stage: StageAccepted, name: wellknown.Buffer, disabled: true,
			config: &bufferv3.Buffer{MaxRequestBytes: wrapperspb.UInt32(defaultBufferBytes)}}}, nil
	},
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) (err error) {
		b := r.Buffer
		if b == nil {
			return nil
		}
		cfg := &bufferv3.BufferPerRoute{Override: &bufferv3.BufferPerRoute_Disabled{Disabled: true}}
		if !b.Disabled {
			cfg.Override = &bufferv3.BufferPerRoute_Buffer{Buffer: &bufferv3.Buffer{MaxRequestBytes: wrapperspb.UInt32(b.MaxRequestBytes)}}
		}
		out.TypedPerFilterConfig, err = withPackedConfig(out.TypedPerFilterConfig, wellknown.Buffer, cfg)
		return err
	},
}
