package translator

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	brotliv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/compressor/v3"
	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	"google.golang.org/protobuf/proto"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// compressorFilter names Envoy's compressor filter; one per encoding, each
// with its own library.
const compressorFilter = "envoy.filters.http.compressor"

// compressionFeature puts a compressor filter per encoding at the compress
// stage: before every filter that may change a body, so that on the way
// back it compresses what they leave.
var compressionFeature = feature{
	name: "compression",
	filters: func(_ *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		var out []httpFilter
		for _, c := range l.Compression {
			library, err := compressorLibrary(c)
			if err != nil {
				return nil, err
			}
			out = append(out, httpFilter{stage: StageCompress, name: compressorFilter + "." + c.Encoding, config: &compressorv3.Compressor{
				ResponseDirectionConfig: &compressorv3.Compressor_ResponseDirectionConfig{
					CommonConfig: &compressorv3.Compressor_CommonDirectionConfig{
						MinContentLength: uint32Value(c.MinContentLength), ContentType: c.ContentTypes},
					DisableOnEtagHeader:        c.DisableOnETag,
					RemoveAcceptEncodingHeader: c.RemoveAcceptEncoding,
				},
				CompressorLibrary: library,
			}})
		}
		return out, nil
	},
}

func compressorLibrary(c ir.Compressor) (*corev3.TypedExtensionConfig, error) {
	var name string
	var cfg proto.Message
	switch c.Encoding {
	case ir.EncodingBrotli:
		name, cfg = "envoy.compression.brotli.compressor", &brotliv3.Brotli{Quality: uint32Value(c.Level)}
	default:
		gz := &gzipv3.Gzip{}
		if c.Level != nil {
			gz.CompressionLevel = gzipv3.Gzip_CompressionLevel(*c.Level)
		}
		name, cfg = "envoy.compression.gzip.compressor", gz
	}
	a, err := packAny(cfg)
	if err != nil {
		return nil, err
	}
	return &corev3.TypedExtensionConfig{Name: name, TypedConfig: a}, nil
}
