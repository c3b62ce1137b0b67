package dataplane

import (
	"net/http"
	"strconv"
	"strings"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
)

// addXRateLimit appends the draft-03 RateLimit headers; Envoy adds them
// (addReferenceKey) rather than replacing an upstream's own.
func addXRateLimit(h http.Header, limit string, remaining, reset uint64) {
	h["X-Ratelimit-Limit"] = append(h["X-Ratelimit-Limit"], limit)
	h["X-Ratelimit-Remaining"] = append(h["X-Ratelimit-Remaining"], strconv.FormatUint(remaining, 10))
	h["X-Ratelimit-Reset"] = append(h["X-Ratelimit-Reset"], strconv.FormatUint(reset, 10))
}

// addXRateLimitFromStatuses renders the rate limit service's statuses as
// Envoy's global filter does: remaining and reset from the status with the
// least remaining, and the limit followed by a quota policy per status,
// e.g. "10, 10;w=60, 1000;w=3600;name=\"per-ip\"".
func addXRateLimitFromStatuses(h http.Header, statuses []*rlsv3.RateLimitResponse_DescriptorStatus) {
	var least *rlsv3.RateLimitResponse_DescriptorStatus
	for _, s := range statuses {
		if s.GetCurrentLimit() != nil && (least == nil || s.GetLimitRemaining() < least.GetLimitRemaining()) {
			least = s
		}
	}
	if least == nil {
		return
	}
	var b strings.Builder
	b.WriteString(strconv.FormatUint(uint64(least.GetCurrentLimit().GetRequestsPerUnit()), 10))
	for _, s := range statuses {
		window := unitSeconds[s.GetCurrentLimit().GetUnit()]
		if s.GetCurrentLimit() == nil || window == 0 {
			continue
		}
		b.WriteString(", ")
		b.WriteString(strconv.FormatUint(uint64(s.GetCurrentLimit().GetRequestsPerUnit()), 10))
		b.WriteString(";w=")
		b.WriteString(strconv.FormatUint(window, 10))
		if name := s.GetCurrentLimit().GetName(); name != "" {
			b.WriteString(`;name="` + name + `"`)
		}
	}
	addXRateLimit(h, b.String(), uint64(least.GetLimitRemaining()), uint64(least.GetDurationUntilReset().GetSeconds()))
}

// unitSeconds is the window of each rate limit unit (Envoy's convertRateLimitUnit).
var unitSeconds = map[rlsv3.RateLimitResponse_RateLimit_Unit]uint64{
	rlsv3.RateLimitResponse_RateLimit_SECOND: 1,
	rlsv3.RateLimitResponse_RateLimit_MINUTE: 60,
	rlsv3.RateLimitResponse_RateLimit_HOUR:   60 * 60,
	rlsv3.RateLimitResponse_RateLimit_DAY:    24 * 60 * 60,
	rlsv3.RateLimitResponse_RateLimit_WEEK:   7 * 24 * 60 * 60,
	rlsv3.RateLimitResponse_RateLimit_MONTH:  30 * 24 * 60 * 60,
	rlsv3.RateLimitResponse_RateLimit_YEAR:   365 * 24 * 60 * 60,
}

// encodeHeadersWriter calls before on the response headers just before they
// are written, whether the upstream's or a local reply's: what a filter's
// encodeHeaders sees in Envoy.
type encodeHeadersWriter struct {
	http.ResponseWriter
	before func(http.Header)
	wrote  bool
}

func (w *encodeHeadersWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 { // informational responses are not the response's headers
		w.wrote = true
		w.before(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *encodeHeadersWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer (the
// route timeout bounds the request body through it).
func (w *encodeHeadersWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush keeps streamed responses streaming.
func (w *encodeHeadersWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
