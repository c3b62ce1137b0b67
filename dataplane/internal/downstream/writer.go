package downstream

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

// deferredBodyMax is how much body a response without a Content-Length may
// write before its head goes out chunked; a handler that returns within it
// gets a Content-Length instead, as with net/http.
const deferredBodyMax = 4 << 10

// responseWriter is a downstream connection's http.ResponseWriter, reused by
// each of its requests. WriteHeader serializes the status line and headers
// at once (later header changes do not show, as with net/http); the framing
// (Content-Length, chunked, or close-delimited) is added when the head is
// committed to the connection's buffer.
type responseWriter struct {
	c      *downstreamConn
	req    *http.Request
	body   *downstreamBody
	header http.Header

	status     int
	head       []byte // status line and headers, without framing and the final CRLF
	committed  bool   // head is in c.bw; guarded by c.continueMu while a 100 Continue may be owed
	bodyless   bool   // HEAD, 1xx, 204, 304: no body goes out
	declared   int64  // the handler's Content-Length; -1: none
	written    int64
	chunked    bool
	closeAfter bool     // the connection closes after this response
	trailers   []string // declared in the Trailer header
	pending    []byte   // body held while the framing is undecided
	err        error    // the first write error: the connection is broken
}

func (w *responseWriter) start(req *http.Request, body *downstreamBody) {
	if w.header == nil {
		w.header = make(http.Header)
	}
	w.req, w.body = req, body
	w.closeAfter = req.Close || w.c.srv.shutting.Load()
}

// reset readies w for the connection's next request.
func (w *responseWriter) reset() {
	clear(w.header)
	*w = responseWriter{c: w.c, header: w.header, head: w.head[:0], pending: w.pending[:0], trailers: w.trailers[:0]}
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.status != 0 {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.writeInformational(code)
		return
	}
	w.status = code
	w.bodyless = w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified ||
		code == http.StatusSwitchingProtocols
	w.declared = -1
	if n := h1.DeclaredLength(w.header); n >= 0 && code != http.StatusNoContent {
		w.declared = n
	}
	if h1.ContainsToken(w.header["Connection"], "close") || code == http.StatusSwitchingProtocols {
		w.closeAfter = true // after a 101 the connection is the handler's, or closed
	}
	w.head = appendStatusLine(w.head[:0], code)
	w.head = w.appendHeaders(w.head)
	if w.bodyless || w.declared >= 0 {
		w.commit(false)
	}
}

// writeInformational sends a 1xx response (103 Early Hints, say) at once.
func (w *responseWriter) writeInformational(code int) {
	b := appendStatusLine(w.head[:0], code)
	b = w.appendHeaders(b)
	b = append(b, "\r\n"...)
	w.write(b)
	w.flush()
	w.head = b[:0]
}

func appendStatusLine(b []byte, code int) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(code)...)
	return append(b, "\r\n"...)
}

// appendHeaders serializes the handler's headers, except the framing ones,
// which are the writer's. Invalid names are dropped and line breaks in
// values become spaces, so no header can split the response.
func (w *responseWriter) appendHeaders(b []byte) []byte {
	for k, vv := range w.header {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Connection":
			continue
		case "Trailer":
			w.trailers = slices.AppendSeq(w.trailers[:0], h1.ListedNames(vv))
		}
		if strings.HasPrefix(k, http.TrailerPrefix) || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range vv {
			b = appendHeaderLine(b, k, v)
		}
	}
	if _, ok := w.header["Date"]; !ok {
		b = appendHeaderLine(b, "Date", httpDate())
	}
	return b
}

func appendHeaderLine(b []byte, k, v string) []byte {
	b = append(b, k...)
	b = append(b, ": "...)
	start := len(b)
	b = append(b, strings.TrimSpace(v)...)
	for i := start; i < len(b); i++ {
		if b[i] == '\r' || b[i] == '\n' {
			b[i] = ' '
		}
	}
	return append(b, "\r\n"...)
}

// commit adds the framing to the head and writes it, then whatever body is
// pending. streaming says the body's length is still unknown: then it goes
// chunked, or, to an HTTP/1.0 client, delimited by closing the connection.
func (w *responseWriter) commit(streaming bool) {
	switch {
	case w.declared >= 0: // never for a 204: WriteHeader sees to that
		w.head = appendContentLength(w.head, w.declared)
	case w.bodyless:
	case !streaming:
		w.declared = int64(len(w.pending))
		w.head = appendContentLength(w.head, w.declared)
	case w.req.ProtoAtLeast(1, 1):
		w.chunked = true
		w.head = append(w.head, "Transfer-Encoding: chunked\r\n"...)
		if len(w.trailers) > 0 {
			w.head = appendHeaderLine(w.head, "Trailer", strings.Join(w.trailers, ", "))
		}
	default:
		w.closeAfter = true
	}
	switch {
	case w.status == http.StatusSwitchingProtocols:
		w.head = append(w.head, "Connection: Upgrade\r\n"...) // the handler takes the connection over
	case w.closeAfter || w.c.srv.shutting.Load():
		w.closeAfter = true
		w.head = append(w.head, "Connection: close\r\n"...)
	case w.req.ProtoMinor == 0:
		w.head = append(w.head, "Connection: keep-alive\r\n"...)
	}
	w.head = append(w.head, "\r\n"...)
	w.c.continueMu.Lock()
	w.committed = true
	w.c.continueMu.Unlock()
	w.write(w.head)
	if len(w.pending) > 0 {
		p := w.pending
		w.pending = w.pending[:0]
		_, _ = w.writeBody(p)
	}
}

func appendContentLength(b []byte, n int64) []byte {
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, "\r\n"...)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	switch {
	case w.bodyless && w.req.Method == http.MethodHead:
		return len(p), nil
	case w.bodyless:
		return 0, http.ErrBodyNotAllowed
	case !w.committed:
		w.pending = append(w.pending, p...)
		if len(w.pending) > deferredBodyMax {
			w.commit(true)
		}
		return len(p), w.err
	}
	return w.writeBody(p)
}

// writeBody writes p as framed, holding a declared length to its value.
func (w *responseWriter) writeBody(p []byte) (int, error) {
	var tooLong bool
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		p, tooLong = p[:w.declared-w.written], true
	}
	if w.chunked && len(p) > 0 {
		w.write(strconv.AppendInt(w.c.bw.AvailableBuffer(), int64(len(p)), 16))
		w.write(crlf)
		w.write(p)
		w.write(crlf)
	} else {
		w.write(p)
	}
	w.written += int64(len(p))
	if w.err != nil {
		return 0, w.err
	}
	if tooLong {
		return len(p), http.ErrContentLength
	}
	return len(p), nil
}

var (
	crlf      = []byte("\r\n")
	lastChunk = []byte("0\r\n")
)

func (w *responseWriter) write(p []byte) {
	if w.err == nil {
		_, w.err = w.c.bw.Write(p)
	}
}

func (w *responseWriter) flush() {
	if w.err == nil {
		w.err = w.c.bw.Flush()
	}
}

// Flush sends what is written so far; a response whose length is unknown
// goes out chunked from here on.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(true)
	}
	w.flush()
}

// finish completes the response after the handler returned and reports
// whether the connection may carry another request.
func (w *responseWriter) finish() bool {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(false)
	}
	if w.chunked {
		w.write(lastChunk)
		w.writeTrailers()
		w.write(crlf)
	}
	if !w.bodyless && w.declared >= 0 && w.written < w.declared {
		w.closeAfter = true // the client would wait for the rest
	}
	if !w.closeAfter && w.err == nil {
		w.c.awaitNextRequest(w.body)
	}
	w.flush()
	w.c.out.Await = false // unused when bw already held an error (a failed 100 Continue) and wrote nothing
	keep := !w.closeAfter && w.err == nil
	w.reset()
	return keep
}

func (w *responseWriter) writeTrailers() {
	for k, vv := range w.header {
		name, ok := strings.CutPrefix(k, http.TrailerPrefix)
		if !ok {
			continue
		}
		for _, v := range vv {
			w.write(appendHeaderLine(w.c.bw.AvailableBuffer(), name, v))
		}
	}
	for _, k := range w.trailers {
		for _, v := range w.header[k] {
			w.write(appendHeaderLine(w.c.bw.AvailableBuffer(), k, v))
		}
	}
}

// httpDate is the Date header value for now, formatted once per second.
func httpDate() string {
	now := time.Now()
	if d := cachedDate.Load(); d != nil && d.unix == now.Unix() {
		return d.value
	}
	d := &dateValue{unix: now.Unix(), value: now.UTC().Format(http.TimeFormat)}
	cachedDate.Store(d)
	return d.value
}

type dateValue struct {
	unix  int64
	value string
}

var cachedDate atomic.Pointer[dateValue]
