package dataplane

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// grpcTimeoutPolicy is a route's max_stream_duration.grpc_timeout_header_max:
// a gRPC request's grpc-timeout header is its timeout, capped at max (0:
// uncapped), as in Envoy.
type grpcTimeoutPolicy struct{ max time.Duration }

func compileMaxStreamDuration(msd *route.RouteAction_MaxStreamDuration) (*grpcTimeoutPolicy, error) {
	if msd == nil {
		return nil, nil
	}
	if err := onlyFields(msd, "grpc_timeout_header_max"); err != nil {
		return nil, err
	}
	if msd.GetGrpcTimeoutHeaderMax() == nil {
		return nil, nil
	}
	d, err := duration(msd.GetGrpcTimeoutHeaderMax())
	if err != nil {
		return nil, fmt.Errorf("grpc_timeout_header_max: %w", err)
	}
	return &grpcTimeoutPolicy{max: d}, nil
}

// timeout is the route timeout for r: its grpc-timeout, capped, when it
// has a valid one (fromHeader); else the route's own.
func (p *grpcTimeoutPolicy) timeout(r *http.Request, routeTimeout time.Duration) (d time.Duration, fromHeader bool) {
	if p == nil {
		return routeTimeout, false
	}
	d, ok := parseGRPCTimeout(r.Header.Get("Grpc-Timeout"))
	if !ok {
		return routeTimeout, false
	}
	if p.max > 0 && d > p.max {
		d = p.max
	}
	return d, true
}

// parseGRPCTimeout reads gRPC's TimeoutValue TimeoutUnit (at most 8 digits
// and one of H M S m u n).
func parseGRPCTimeout(v string) (time.Duration, bool) {
	if len(v) < 2 || len(v) > 9 {
		return 0, false
	}
	n, err := strconv.ParseUint(v[:len(v)-1], 10, 64)
	if err != nil {
		return 0, false
	}
	units := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second,
		'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond}
	unit, ok := units[v[len(v)-1]]
	if !ok {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// isGRPC reports whether r is a gRPC request (not gRPC-Web).
func isGRPC(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return ct == "application/grpc" || strings.HasPrefix(ct, "application/grpc+") || strings.HasPrefix(ct, "application/grpc;")
}

// grpcReplies turn the data plane's local replies to a gRPC request into
// gRPC answers, as Envoy does: HTTP 200, trailers-only, grpc-status from
// the reply's HTTP status and grpc-message from its body. A reply after the
// request's own grpc-timeout passed is DEADLINE_EXCEEDED: the client's
// deadline is what ended it. The connection manager's status writer holds
// them.
type grpcReplies struct {
	on       bool
	deadline time.Time // zero: the request set no grpc-timeout
}

// localReplier is a writer that may answer local replies itself; it
// reports whether it did.
type localReplier interface {
	localReply(code int, body string) bool
}

func (w *statusWriter) localReply(code int, body string) bool {
	if !w.grpc.on {
		return false
	}
	st := grpcStatusForHTTP(code)
	if !w.grpc.deadline.IsZero() && !time.Now().Before(w.grpc.deadline) {
		st = grpcDeadlineExceeded
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/grpc"}
	h["Grpc-Status"] = []string{strconv.Itoa(st)}
	if body != "" {
		h["Grpc-Message"] = []string{grpcMessageEscape(body)}
	}
	delete(h, "Content-Length")
	w.WriteHeader(http.StatusOK)
	return true
}

// setGRPCDeadline notes, on the status writer under w, when a gRPC
// request's own timeout ends.
func setGRPCDeadline(w http.ResponseWriter, deadline time.Time) {
	if lr, ok := findLocalReplier(w); ok {
		if sw, ok := lr.(*statusWriter); ok {
			sw.grpc.deadline = deadline
		}
	}
}

// findLocalReplier finds a localReplier among w and the writers it wraps.
func findLocalReplier(w http.ResponseWriter) (localReplier, bool) {
	for w != nil {
		if lr, ok := w.(localReplier); ok {
			return lr, true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil, false
		}
		w = u.Unwrap()
	}
	return nil, false
}

// gRPC status codes the data plane produces.
const (
	grpcOK               = 0
	grpcUnknown          = 2
	grpcDeadlineExceeded = 4
	grpcUnimplemented    = 12
	grpcInternal         = 13
	grpcUnavailable      = 14
)

// grpcStatusForHTTP is Envoy's Grpc::Utility::httpToGrpcStatus.
func grpcStatusForHTTP(code int) int {
	switch code {
	case 400:
		return grpcInternal
	case 401:
		return 16 // UNAUTHENTICATED
	case 403:
		return 7 // PERMISSION_DENIED
	case 404:
		return grpcUnimplemented
	case 429, 502, 503, 504:
		return grpcUnavailable
	}
	return grpcUnknown
}

// grpcMessageEscape percent-encodes a grpc-message value as gRPC's HTTP/2
// protocol asks: bytes outside printable ASCII, and '%'.
func grpcMessageEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' || c == '%' {
			b.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(c)|0x100, 16)[1:]))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// grpcMessageUnescape decodes a grpc-message value; one that does not
// decode is kept as it came.
func grpcMessageUnescape(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	out, err := url.PathUnescape(s)
	if err != nil {
		return s
	}
	return out
}
