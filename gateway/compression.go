package gateway

import (
	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// gzipLevels are Gloo's gzip levels as zlib's.
var gzipLevels = map[string]uint32{"BEST": 9, "SPEED": 1}

// listenerOptions copies a gateway's compression and buffer options onto
// its listener: gzip first, so that it wins when a client likes gzip and
// brotli equally.
func listenerOptions(l *ir.Listener, g *api.Gateway) {
	if o := g.Spec.Options; o != nil {
		l.BufferLimitBytes = o.PerConnectionBufferLimitBytes
	}
	h := g.Spec.HTTPGateway
	if h == nil || h.Options == nil {
		return
	}
	if gz := h.Options.Gzip; gz != nil {
		c := compressor(ir.EncodingGzip, &gz.CompressionOptions)
		if lvl, ok := gzipLevels[gz.CompressionLevel]; ok {
			c.Level = &lvl
		}
		l.Compression = append(l.Compression, c)
	}
	if br := h.Options.Brotli; br != nil {
		c := compressor(ir.EncodingBrotli, &br.CompressionOptions)
		c.Level = br.Quality
		l.Compression = append(l.Compression, c)
	}
	if b := h.Options.Buffer; b != nil {
		l.BufferMaxRequestBytes = &b.MaxRequestBytes
	}
}

func compressor(encoding string, o *api.CompressionOptions) ir.Compressor {
	return ir.Compressor{Encoding: encoding, MinContentLength: o.ContentLength, ContentTypes: o.ContentType,
		DisableOnETag: o.DisableOnEtagHeader, RemoveAcceptEncoding: o.RemoveAcceptEncodingHeader}
}

func routeBuffer(b *api.BufferPerRoute) *ir.RouteBuffer {
	switch {
	case b == nil:
		return nil
	case b.Disabled:
		return &ir.RouteBuffer{Disabled: true}
	}
	return &ir.RouteBuffer{MaxRequestBytes: b.Buffer.MaxRequestBytes}
}
