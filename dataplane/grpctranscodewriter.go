package dataplane

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gluon-gateway/gluon/dataplane/internal/transcode"
)

// transcodeWriter receives a gRPC method's answer and writes it to the
// client as JSON. A unary answer is held until its status is known (from
// the trailers); a stream's messages are sent as they arrive. An answer
// that is not gRPC (a local reply, a proxy's error page) passes as it is.
type transcodeWriter struct {
	w      http.ResponseWriter
	resp   transcode.Response
	route  *transcoderRoute
	header http.Header // what the upstream answered, trailers included
	body   frameBody   // the request's body, held here: one allocation less
	code   int
	grpc   bool   // the answer is gRPC: it is transcoded
	sent   bool   // the JSON answer's head has gone to the client
	json   []byte // the JSON of a unary answer, held until its status
	err    error
}

func (tw *transcodeWriter) Header() http.Header { return tw.header }

func (tw *transcodeWriter) Unwrap() http.ResponseWriter { return tw.w }

func (tw *transcodeWriter) WriteHeader(code int) {
	if tw.code != 0 || code < 200 {
		return
	}
	tw.code = code
	tw.grpc = strings.HasPrefix(tw.header.Get("Content-Type"), "application/grpc")
	if !tw.grpc {
		h := tw.w.Header()
		for k, vv := range tw.header {
			h[k] = vv
		}
		tw.w.WriteHeader(code)
	}
}

func (tw *transcodeWriter) Write(p []byte) (int, error) {
	if tw.code == 0 {
		tw.WriteHeader(http.StatusOK)
	}
	if !tw.grpc {
		return tw.w.Write(p)
	}
	if tw.err != nil {
		return len(p), nil
	}
	out, err := tw.resp.Feed(p)
	switch {
	case err != nil:
		tw.err = err
	case tw.resp.Streaming() && len(out) > 0:
		tw.sendHead(http.StatusOK, -1)
		_, err = tw.w.Write(out)
		tw.flush()
		return len(p), err
	case len(tw.json)+len(out) > tw.route.maxResponse:
		tw.err = errAnswerTooLarge
	case tw.json == nil:
		tw.json = out // Feed's own slice
	default:
		tw.json = append(tw.json, out...)
	}
	return len(p), nil
}

var errAnswerTooLarge = &transcodeError{"the method's answer is larger than the transcoder's max_response_body_size"}

type transcodeError struct{ msg string }

func (e *transcodeError) Error() string { return e.msg }

func (tw *transcodeWriter) Flush() {
	if !tw.grpc {
		tw.flush()
	}
}

func (tw *transcodeWriter) flush() {
	if f, ok := tw.w.(http.Flusher); ok {
		f.Flush()
	}
}

// sendHead sends the JSON answer's head: the upstream's headers less the
// gRPC ones. A length of -1 leaves Content-Length out (a stream; or a
// whole answer written at once, which the server measures itself).
func (tw *transcodeWriter) sendHead(code, length int) {
	if tw.sent {
		return
	}
	tw.sent = true
	h := tw.w.Header()
	for k, vv := range tw.header {
		if strings.HasPrefix(k, http.TrailerPrefix) || strings.HasPrefix(k, "Grpc-") || k == "Content-Type" || k == "Content-Length" {
			continue
		}
		h[k] = vv
	}
	h["Content-Type"] = jsonContentType
	if length >= 0 {
		h["Content-Length"] = []string{strconv.Itoa(length)}
	}
	tw.w.WriteHeader(code)
}

// finish writes the answer once the method's status is known.
func (tw *transcodeWriter) finish() {
	if !tw.grpc {
		return
	}
	status, message := tw.grpcStatus()
	if tw.err != nil {
		if !tw.sent {
			tw.reply(http.StatusBadGateway, transcode.StatusJSON(grpcInternal, tw.err.Error(), ""))
		}
		return
	}
	if status != grpcOK && !tw.sent {
		tw.failed(status, message)
		return
	}
	tail, err := tw.resp.Finish()
	if err != nil && !tw.sent {
		tw.reply(http.StatusBadGateway, transcode.StatusJSON(grpcInternal, err.Error(), ""))
		return
	}
	if tw.sent {
		_, _ = tw.w.Write(tail)
		return
	}
	body := append(tw.json, tail...)
	tw.sendHead(http.StatusOK, -1)
	_, _ = tw.w.Write(body)
}

// failed answers a non-OK status: its HTTP mapping, with the status as
// JSON when convert_grpc_status is on, else in grpc-status headers.
func (tw *transcodeWriter) failed(status int, message string) {
	code := httpStatusForGRPC(status)
	if tw.route.convertStatus {
		tw.reply(code, transcode.StatusJSON(status, message, tw.value("Grpc-Status-Details-Bin")))
		return
	}
	h := tw.w.Header()
	h["Grpc-Status"] = []string{strconv.Itoa(status)}
	if v := tw.value("Grpc-Message"); v != "" {
		h["Grpc-Message"] = []string{v}
	}
	tw.sendHead(code, 0)
}

func (tw *transcodeWriter) reply(code int, body []byte) {
	tw.sendHead(code, len(body))
	_, _ = tw.w.Write(body)
}

// grpcStatus is the answer's status: from its trailers, or its headers
// for a trailers-only answer; UNKNOWN when it has none.
func (tw *transcodeWriter) grpcStatus() (int, string) {
	s := tw.value("Grpc-Status")
	if s == "" {
		return grpcUnknown, "the upstream's answer ended without a grpc-status"
	}
	code, err := strconv.Atoi(s)
	if err != nil {
		return grpcUnknown, "grpc-status " + s
	}
	return code, grpcMessageUnescape(tw.value("Grpc-Message"))
}

// value is a trailer's value, else the header's.
func (tw *transcodeWriter) value(name string) string {
	if vv := tw.header[http.TrailerPrefix+name]; len(vv) > 0 {
		return vv[0]
	}
	return tw.header.Get(name)
}

// httpStatusForGRPC is Envoy's Grpc::Utility::grpcToHttpStatus.
func httpStatusForGRPC(code int) int {
	statuses := [...]int{200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401}
	if code < 0 || code >= len(statuses) {
		return http.StatusInternalServerError
	}
	return statuses[code]
}
