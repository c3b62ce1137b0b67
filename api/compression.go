package api

import "strings"

// Gzip is Gloo's gateway gzip option (Envoy's compressor filter with the
// gzip library): responses are compressed for clients that accept gzip,
// when their content type is listed and their length reaches the minimum.
type Gzip struct {
	// CompressionLevel is DEFAULT, BEST or SPEED.
	CompressionLevel   string `json:"compressionLevel,omitempty"`
	CompressionOptions `json:",inline"`
}

// Brotli compresses responses with brotli for clients that accept br; with
// gzip too, each client gets the encoding it prefers (gzip on a tie).
type Brotli struct {
	// Quality is 0 (fastest) to 11 (smallest); default 3, as Envoy.
	Quality            *uint32 `json:"quality,omitempty"`
	CompressionOptions `json:",inline"`
}

// CompressionOptions are what Envoy's compressor filter decides by.
type CompressionOptions struct {
	// ContentLength is the minimum length compressed (default 30 bytes).
	ContentLength *uint32 `json:"contentLength,omitempty"`
	// ContentType lists the media types compressed; default Envoy's list
	// (JSON, HTML, CSS, JavaScript, plain text, XML, SVG).
	ContentType []string `json:"contentType,omitempty"`
	// DisableOnEtagHeader leaves responses with an ETag alone (otherwise a
	// strong ETag is made weak).
	DisableOnEtagHeader bool `json:"disableOnEtagHeader,omitempty"`
	// RemoveAcceptEncodingHeader hides Accept-Encoding from the upstream,
	// so that it never compresses itself.
	RemoveAcceptEncodingHeader bool `json:"removeAcceptEncodingHeader,omitempty"`
}

var gzipLevels = map[string]bool{"": true, "DEFAULT": true, "BEST": true, "SPEED": true}

func validateCompression(f *fieldErrors, path string, g *Gzip, b *Brotli) {
	if g != nil {
		if !gzipLevels[g.CompressionLevel] {
			f.add(path+".gzip.compressionLevel", "%q is not one of DEFAULT, BEST, SPEED", g.CompressionLevel)
		}
		validateCompressionOptions(f, path+".gzip", &g.CompressionOptions)
	}
	if b != nil {
		if b.Quality != nil && *b.Quality > 11 {
			f.add(path+".brotli.quality", "%d is not a brotli quality (0-11)", *b.Quality)
		}
		validateCompressionOptions(f, path+".brotli", &b.CompressionOptions)
	}
}

func validateCompressionOptions(f *fieldErrors, path string, o *CompressionOptions) {
	for i, ct := range o.ContentType {
		if !strings.Contains(ct, "/") || strings.ContainsAny(ct, " ;,") {
			f.add(idx(path+".contentType", i), "%q is not a media type", ct)
		}
	}
}
