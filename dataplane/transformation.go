package dataplane

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
	"github.com/gluon-gateway/gluon/envoy-filters/transformation"
)

// transformationFilter runs the gluon.transformation plugin on one listener.
type transformationFilter struct{ f *transformation.Filter }

func newTransformationFilter(configJSON []byte) (httpFilter, error) {
	f, err := transformation.NewFilter(configJSON)
	if err != nil {
		return nil, err
	}
	return transformationFilter{f}, nil
}

func (tf transformationFilter) withRoutes(rt *routeTable) (middleware, error) {
	return pluginMiddleware(rt, transformation.PluginName, tf.f.CompileRoute, func(r *transformation.Route) pluginStream { return transformationStream{r.NewStream()} })
}

// runPlugin runs one request through a plugin: the request half before
// the rest of the chain, the response half on what it writes. The plugin's
// own local replies (a failed transformation, a body too large) are written
// as they are, not passed through its response half.
func runPlugin(s pluginStream, next handler, w http.ResponseWriter, r *http.Request, m *routeMatch) {
	if k, ok := s.function(); ok {
		if m.stats != nil && m.stats.all != nil {
			fs := m.stats.all.function(k)
			fs.invocations.Add(1)
			start := time.Now()
			defer func() { fs.record(m.sw.status(), time.Since(start)) }()
		}
		if m.trace != nil {
			defer m.trace.function(k)(m)
		}
	}
	var body []byte
	// The proxy's buffer limit, when configured, replaces the plugin's own.
	if m.bufferLimit > 0 {
		s.setMaxBody(m.bufferLimit)
	}
	limit := s.MaxBody()
	if s.RequestNeedsBody() {
		var tooLarge bool
		var err error
		if body, tooLarge, err = readBody(r, limit); err != nil {
			localReply(w, http.StatusBadRequest, "")
			return
		}
		if tooLarge {
			pluginReply(w, tooLargeReply(limit))
			return
		}
	}
	newBody, changed, reply := s.onRequest(&requestHeaders{r: r, m: m}, body)
	if reply != nil {
		pluginReply(w, reply)
		return
	}
	if changed {
		body = newBody
	}
	if body != nil {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	tw := &transformWriter{w: w, s: s, buffer: s.ResponseNeedsBody(), limit: limit}
	next(tw, r, m)
	tw.finish()
}

// readBody buffers the request body up to limit bytes.
func readBody(r *http.Request, limit int) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > int64(limit) {
		return nil, true, nil
	}
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}, false, nil
	}
	if r.ContentLength >= 0 {
		// The length is known (and the server holds the body to it): one
		// allocation of the right size.
		body = make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, false, err
		}
		return body, false, nil
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, false, err
	}
	return body, len(body) > limit, nil
}

// pluginReply answers a plugin's local reply, as Envoy's SendLocalReply does.
func pluginReply(w http.ResponseWriter, lr *pluginLocalReply) {
	for k, v := range lr.headers {
		w.Header().Set(k, v)
	}
	localReply(w, lr.status, lr.body)
}

// requestHeaders presents a request as Envoy's request header map: names
// lower-case, the request target as :path (query included), :method, and
// Host as :authority. Pseudo-headers cannot be removed; removing one leaves
// it as it was.
type requestHeaders struct {
	r *http.Request
	m *routeMatch
}

func (h *requestHeaders) Get(key string) (string, bool) {
	switch key = strings.ToLower(key); key {
	case ":path":
		return h.m.target, true
	case ":method":
		return h.r.Method, true
	case ":authority":
		return h.r.Host, true
	case ":scheme":
		if h.r.TLS != nil {
			return "https", true
		}
		return "http", true
	}
	// Envoy's Go API returns the first of several values.
	if vs := h.r.Header[http.CanonicalHeaderKey(key)]; len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

func (h *requestHeaders) Set(key, value string) {
	switch key = strings.ToLower(key); key {
	case ":path":
		h.m.target = value
	case ":method":
		h.r.Method = value
	case ":authority":
		h.r.Host = value
	default:
		h.r.Header[http.CanonicalHeaderKey(key)] = []string{value}
	}
}

func (h *requestHeaders) Add(key, value string) {
	if strings.HasPrefix(key, ":") {
		h.Set(key, value)
		return
	}
	k := http.CanonicalHeaderKey(key)
	h.r.Header[k] = append(h.r.Header[k], value)
}

func (h *requestHeaders) Del(key string) {
	if !strings.HasPrefix(key, ":") {
		delete(h.r.Header, http.CanonicalHeaderKey(key))
	}
}

// Range visits the pseudo-headers, then every header value, lower-case, as
// Envoy's header map does.
func (h *requestHeaders) Range(f func(key, value string) bool) {
	if !f(":path", h.m.target) || !f(":method", h.r.Method) || !f(":authority", h.r.Host) {
		return
	}
	rangeHeader(h.r.Header, f)
}

func rangeHeader(hdr http.Header, f func(key, value string) bool) {
	for k, vs := range hdr {
		lk := strings.ToLower(k)
		for _, v := range vs {
			if !f(lk, v) {
				return
			}
		}
	}
}

// responseHeaders presents response headers with the status as :status.
type responseHeaders struct {
	h      http.Header
	status int
	// badStatus is a :status that is not a final status code; the response
	// is then replaced by a 500 rather than sent malformed.
	badStatus string
}

func (h *responseHeaders) Get(key string) (string, bool) {
	if strings.EqualFold(key, ":status") {
		return strconv.Itoa(h.status), true
	}
	if vs := h.h[http.CanonicalHeaderKey(key)]; len(vs) > 0 {
		return vs[0], true
	}
	return "", false
}

func (h *responseHeaders) Set(key, value string) {
	if strings.EqualFold(key, ":status") {
		if n, err := strconv.Atoi(value); err == nil && n >= 200 && n <= 999 {
			h.status, h.badStatus = n, ""
		} else {
			h.badStatus = value
		}
		return
	}
	h.h[http.CanonicalHeaderKey(key)] = []string{value}
}

func (h *responseHeaders) Add(key, value string) {
	if strings.HasPrefix(key, ":") {
		h.Set(key, value)
		return
	}
	k := http.CanonicalHeaderKey(key)
	h.h[k] = append(h.h[k], value)
}

func (h *responseHeaders) Del(key string) {
	if !strings.HasPrefix(key, ":") {
		delete(h.h, http.CanonicalHeaderKey(key))
	}
}

// Range visits :status, then every header value, lower-case.
func (h *responseHeaders) Range(f func(key, value string) bool) {
	if f(":status", strconv.Itoa(h.status)) {
		rangeHeader(h.h, f)
	}
}

// errReplaced stops whoever writes a response that a local reply replaced;
// the router treats it like a client that went away.
var errReplaced = errors.New("response replaced by a local reply")

// transformWriter runs the response half of a transformation on the response
// written through it, whether proxied or generated by the data plane (direct
// responses, redirects, 404s, 503s: Envoy's encoder filters see local replies
// too). Without buffer it transforms the headers as they are written and
// streams the body; with buffer it holds the body, up to limit, until the
// handler returns. A body over the limit is answered with the plugin's
// TooLarge reply rather than streamed untransformed: the transformation
// would otherwise be skipped silently.
type transformWriter struct {
	w        http.ResponseWriter
	s        pluginStream
	buffer   bool
	limit    int
	status   int // 0 until the handler writes headers
	body     []byte
	replaced bool // a local reply was sent instead
}

func (tw *transformWriter) Header() http.Header { return tw.w.Header() }

func (tw *transformWriter) WriteHeader(code int) {
	if tw.status != 0 || tw.replaced {
		return
	}
	tw.status = code
	switch {
	case !tw.buffer:
		tw.writeTransformed(nil)
	case h1.DeclaredLength(tw.w.Header()) > int64(tw.limit):
		tw.replace(tooLargeReply(tw.limit))
	}
}

func (tw *transformWriter) Write(p []byte) (int, error) {
	if tw.status == 0 {
		tw.WriteHeader(http.StatusOK)
	}
	switch {
	case tw.replaced:
		return 0, errReplaced
	case !tw.buffer:
		return tw.w.Write(p)
	case len(tw.body)+len(p) > tw.limit:
		tw.replace(tooLargeReply(tw.limit))
		return 0, errReplaced
	}
	tw.body = append(tw.body, p...)
	return len(p), nil
}

// Flush lets streamed responses stream; a buffered one is written at finish.
func (tw *transformWriter) Flush() {
	if f, ok := tw.w.(http.Flusher); ok && !tw.buffer && !tw.replaced {
		f.Flush()
	}
}

// finish writes a buffered response once the handler has returned.
func (tw *transformWriter) finish() {
	if tw.buffer && tw.status != 0 && !tw.replaced {
		tw.writeTransformed(tw.body)
	}
}

// writeTransformed applies the response transformation to the headers (and
// the buffered body) and writes them downstream.
func (tw *transformWriter) writeTransformed(body []byte) {
	h := &responseHeaders{h: tw.w.Header(), status: tw.status}
	newBody, changed, reply := tw.s.onResponse(h, body)
	switch {
	case reply != nil:
		tw.replace(reply)
		return
	case h.badStatus != "":
		tw.replace(&pluginLocalReply{status: http.StatusInternalServerError, body: "transformation set an invalid :status " + strconv.Quote(h.badStatus) + "\n"})
		return
	}
	if changed {
		body = newBody // OnResponse has set its content-length
	}
	tw.w.WriteHeader(h.status)
	if len(body) > 0 {
		_, _ = tw.w.Write(body)
	}
}

// replace discards the response written so far (nothing has been sent yet)
// and answers the local reply instead.
func (tw *transformWriter) replace(lr *pluginLocalReply) {
	tw.replaced = true
	clear(tw.w.Header())
	pluginReply(tw.w, lr)
}
