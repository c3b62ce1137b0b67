package dataplane

import (
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	brotliv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/brotli/compressor/v3"
	gzipv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	compressorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	compressorType = "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor"
	gzipType       = "type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip"
	brotliType     = "type.googleapis.com/envoy.extensions.compression.brotli.compressor.v3.Brotli"
	// Envoy's defaults.
	defaultMinContentLength = 30
	defaultBrotliQuality    = 3
)

// defaultCompressibleTypes are the media types Envoy compresses by default.
var defaultCompressibleTypes = []string{"application/javascript", "application/json", "application/xhtml+xml",
	"image/svg+xml", "text/css", "text/html", "text/plain", "text/xml"}

func compressorFilterDef() httpFilterDef {
	return httpFilterDef{name: "envoy.filters.http.compressor", typeURL: compressorType, compile: compileCompressor}
}

// compressor is envoy.filters.http.compressor on one listener: it offers
// one encoding, made by a pool of writers of its library.
type compressor struct {
	encoding     string
	minLength    int64
	types        []string
	skipOnETag   bool
	removeAccept bool
	writers      sync.Pool // of resettableWriter
}

type resettableWriter interface {
	io.WriteCloser
	Flush() error
	Reset(io.Writer)
}

func compileCompressor(_ string, cfg *anypb.Any) (httpFilter, error) {
	c := &compressorv3.Compressor{}
	if err := decodeAny(cfg, c); err != nil {
		return nil, err
	}
	if err := onlyFields(c, "response_direction_config", "compressor_library"); err != nil {
		return nil, err
	}
	out := &compressor{minLength: defaultMinContentLength, types: defaultCompressibleTypes}
	if err := out.compileResponseDirection(c.GetResponseDirectionConfig()); err != nil {
		return nil, fmt.Errorf("response_direction_config: %w", err)
	}
	if err := out.compileLibrary(c.GetCompressorLibrary().GetTypedConfig()); err != nil {
		return nil, fmt.Errorf("compressor_library: %w", err)
	}
	return out, nil
}

func (c *compressor) compileResponseDirection(rd *compressorv3.Compressor_ResponseDirectionConfig) error {
	if rd == nil {
		return nil
	}
	if err := onlyFields(rd, "common_config", "disable_on_etag_header", "remove_accept_encoding_header"); err != nil {
		return err
	}
	c.skipOnETag, c.removeAccept = rd.GetDisableOnEtagHeader(), rd.GetRemoveAcceptEncodingHeader()
	common := rd.GetCommonConfig()
	if common == nil {
		return nil
	}
	if err := onlyFields(common, "min_content_length", "content_type"); err != nil {
		return err
	}
	if v := common.GetMinContentLength(); v != nil {
		c.minLength = int64(v.GetValue())
	}
	if ts := common.GetContentType(); len(ts) > 0 {
		c.types = nil
		for _, t := range ts {
			c.types = append(c.types, strings.ToLower(strings.TrimSpace(t)))
		}
	}
	return nil
}

func (c *compressor) compileLibrary(lib *anypb.Any) error {
	switch lib.GetTypeUrl() {
	case gzipType:
		gz := &gzipv3.Gzip{}
		if err := decodeAny(lib, gz); err != nil {
			return err
		}
		// Go's deflate has no memory level or window size to set.
		if err := onlyFields(gz, "compression_level"); err != nil {
			return err
		}
		level := int(gz.GetCompressionLevel())
		if level == 0 {
			level = gzip.DefaultCompression
		}
		if level > gzip.BestCompression {
			return fmt.Errorf("gzip compression_level %d is out of range", level)
		}
		c.encoding = "gzip"
		c.writers.New = func() any { w, _ := gzip.NewWriterLevel(io.Discard, level); return w }
	case brotliType:
		br := &brotliv3.Brotli{}
		if err := decodeAny(lib, br); err != nil {
			return err
		}
		if err := onlyFields(br, "quality"); err != nil {
			return err
		}
		quality := defaultBrotliQuality
		if q := br.GetQuality(); q != nil {
			quality = int(q.GetValue())
		}
		if quality > brotli.BestCompression {
			return fmt.Errorf("brotli quality %d is out of range (0-11)", quality)
		}
		c.encoding = "br"
		c.writers.New = func() any { return brotli.NewWriterLevel(io.Discard, quality) }
	default:
		return fmt.Errorf("library %q is not supported (gzip or brotli)", lib.GetTypeUrl())
	}
	return nil
}

func (c *compressor) withRoutes(*routeTable) (middleware, error) {
	return func(next handler, _ map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			q := acceptQuality(r.Header["Accept-Encoding"], c.encoding)
			if q <= 0 || r.Method == http.MethodHead {
				next(w, r, m)
				return
			}
			m.offers = append(m.offers, encodingOffer{c, q})
			if c.removeAccept {
				r.Header.Del("Accept-Encoding")
			}
			cw := &compressWriter{ResponseWriter: w, c: c, m: m}
			next(cw, r, m)
			if err := cw.finish(); err != nil && r.Context().Err() == nil {
				panic(http.ErrAbortHandler) // the body is cut short: reset, as for an upstream reset
			}
		}
	}, nil
}

// encodingOffer is a compressor that a request's Accept-Encoding allows,
// with the quality the client gave its encoding. Of several, the best
// quality wins, the first on a tie, as Envoy's compressors agree.
type encodingOffer struct {
	c *compressor
	q float64
}

func (m *routeMatch) chosenCompressor() *compressor {
	var best *encodingOffer
	for i := range m.offers {
		if o := &m.offers[i]; best == nil || o.q > best.q {
			best = o
		}
	}
	if best == nil {
		return nil
	}
	return best.c
}

// acceptQuality is the q-value Accept-Encoding gives encoding (or "*"), 0
// when it is not accepted.
func acceptQuality(values []string, encoding string) float64 {
	q, star := -1.0, -1.0
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			pq := qvalue(params)
			switch name = strings.ToLower(strings.TrimSpace(name)); name {
			case encoding:
				q = pq
			case "*":
				star = pq
			}
		}
	}
	if q >= 0 {
		return q
	}
	return max(star, 0)
}

// qvalue reads the q parameter of a coding's parameters: 1 without one,
// 0 when it cannot be read; RFC 9110 qvalues are 0 to 1.
func qvalue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || math.IsNaN(f) {
			return 0
		}
		return min(max(f, 0), 1)
	}
	return 1
}

// compressWriter compresses a response when, at its headers, this
// compressor won the request and the response qualifies.
type compressWriter struct {
	http.ResponseWriter
	c       *compressor
	m       *routeMatch
	decided bool
	out     resettableWriter
}

func (w *compressWriter) WriteHeader(code int) {
	if !w.decided && code >= 200 {
		w.decided = true
		if w.m.chosenCompressor() == w.c && w.c.qualifies(code, w.Header()) {
			w.start()
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// qualifies applies Envoy's conditions: a body to compress, long enough
// when its length is known, of a listed type, not encoded already, not
// marked no-transform, and (if so configured) without an ETag.
func (c *compressor) qualifies(code int, h http.Header) bool {
	if code == http.StatusNoContent || code == http.StatusNotModified {
		return false
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err != nil || n < c.minLength {
			return false
		}
	}
	if ce := h.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return false
	}
	if strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-transform") {
		return false
	}
	if c.skipOnETag && h.Get("Etag") != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && slices.Contains(c.types, strings.ToLower(mt))
}

func (w *compressWriter) start() {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Encoding", w.c.encoding)
	h.Add("Vary", "Accept-Encoding")
	if etag := h.Get("Etag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		h.Set("Etag", "W/"+etag) // the bytes differ now: only weakly the same
	}
	w.out = w.c.writers.Get().(resettableWriter)
	w.out.Reset(w.ResponseWriter)
}

func (w *compressWriter) Write(p []byte) (int, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.out != nil {
		return w.out.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush keeps streamed responses streaming: what was compressed so far
// goes out.
func (w *compressWriter) Flush() {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.out != nil {
		_ = w.out.Flush()
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish ends the compressed stream and returns its writer to the pool.
func (w *compressWriter) finish() error {
	if w.out == nil {
		return nil
	}
	err := w.out.Close()
	w.out.Reset(io.Discard)
	w.c.writers.Put(w.out)
	w.out = nil
	return err
}
