package dataplane

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// retryOn is the set of retry_on conditions.
type retryOn uint8

const (
	retryOn5xx retryOn = 1 << iota
	retryOnGatewayError
	retryOnConnectFailure
	retryOnReset
	retryOnRetriable4xx
	retryOnStatusCodes
	// retryOnGRPC: the response's grpc-status is one of grpcCodes.
	retryOnGRPC
)

// grpcRetryConditions are Envoy's x-envoy-retry-grpc-on conditions.
var grpcRetryConditions = map[string]int{"cancelled": 1, "deadline-exceeded": grpcDeadlineExceeded,
	"internal": grpcInternal, "resource-exhausted": 8, "unavailable": grpcUnavailable}

const (
	defaultRetryBaseInterval = 25 * time.Millisecond
	// maxRetryBodyBytes bounds how much request body is buffered for replay;
	// larger bodies are streamed and neither retried nor mirrored (Envoy's
	// default buffer limit).
	maxRetryBodyBytes = 1 << 20
)

type retryPolicy struct {
	on         retryOn
	numRetries int
	perTry     time.Duration // 0: only the route timeout applies
	base, max  time.Duration
	// codes are retried under retriable-status-codes.
	codes []uint32
	// grpcCodes are the gRPC statuses retried.
	grpcCodes []string
}

// failureKind classifies a failed attempt for retry decisions and local replies.
type failureKind uint8

const (
	failConnect failureKind = iota
	failReset
	failPerTryTimeout
)

func compileRetryPolicy(rp *route.RetryPolicy) (*retryPolicy, error) {
	if err := onlyFields(rp, "retry_on", "num_retries", "per_try_timeout", "retry_back_off", "retriable_status_codes"); err != nil {
		return nil, err
	}
	p := &retryPolicy{numRetries: 1, base: defaultRetryBaseInterval, codes: rp.GetRetriableStatusCodes()}
	for tok := range strings.SplitSeq(rp.GetRetryOn(), ",") {
		switch strings.TrimSpace(tok) {
		case "":
		case "5xx":
			p.on |= retryOn5xx
		case "gateway-error":
			p.on |= retryOnGatewayError
		case "connect-failure":
			p.on |= retryOnConnectFailure
		case "reset":
			p.on |= retryOnReset
		case "retriable-4xx":
			p.on |= retryOnRetriable4xx
		case "retriable-status-codes":
			p.on |= retryOnStatusCodes
		default:
			code, ok := grpcRetryConditions[strings.TrimSpace(tok)]
			if !ok {
				return nil, fmt.Errorf("retry_on %q is not supported", strings.TrimSpace(tok))
			}
			p.on |= retryOnGRPC
			p.grpcCodes = append(p.grpcCodes, strconv.Itoa(code))
		}
	}
	if n := rp.GetNumRetries(); n != nil {
		p.numRetries = int(n.GetValue())
	}
	if t := rp.GetPerTryTimeout(); t != nil {
		d, err := duration(t)
		if err != nil {
			return nil, fmt.Errorf("per_try_timeout: %w", err)
		}
		p.perTry = d
	}
	if bo := rp.GetRetryBackOff(); bo != nil {
		if err := onlyFields(bo, "base_interval", "max_interval"); err != nil {
			return nil, err
		}
		d, err := duration(bo.GetBaseInterval())
		if err != nil || d == 0 {
			return nil, fmt.Errorf("retry_back_off.base_interval must be positive: %v", bo.GetBaseInterval())
		}
		p.base = d
		if bo.GetMaxInterval() != nil {
			if p.max, err = duration(bo.GetMaxInterval()); err != nil {
				return nil, fmt.Errorf("retry_back_off.max_interval: %w", err)
			}
			if p.max < p.base {
				return nil, fmt.Errorf("retry_back_off.max_interval %v is less than base_interval %v", p.max, p.base)
			}
		}
	}
	if p.max == 0 {
		p.max = 10 * p.base
	}
	if p.on == 0 {
		p.numRetries = 0
	}
	return p, nil
}

// retriableResponse reports whether a response may be retried: by its
// HTTP status, or by the grpc-status of a trailers-only gRPC answer (the
// only kind that can be retried: it has sent nothing downstream yet).
func (p *retryPolicy) retriableResponse(resp *http.Response) bool {
	if p.on&retryOnGRPC != 0 {
		if st := resp.Header["Grpc-Status"]; len(st) == 1 && slices.Contains(p.grpcCodes, st[0]) {
			return true
		}
	}
	return p.retriableStatus(resp.StatusCode)
}

// retriableStatus reports whether a response with this status may be retried.
func (p *retryPolicy) retriableStatus(code int) bool {
	switch {
	case code >= 500 && p.on&retryOn5xx != 0:
		return true
	case (code == 502 || code == 503 || code == 504) && p.on&retryOnGatewayError != 0:
		return true
	case code == 409 && p.on&retryOnRetriable4xx != 0:
		return true
	case p.on&retryOnStatusCodes != 0:
		return slices.Contains(p.codes, uint32(code))
	}
	return false
}

// retriableFailure reports whether a failed attempt (no response) may be retried.
// As in Envoy, 5xx and gateway-error cover every reset, connect failures and
// per-try timeouts included.
func (p *retryPolicy) retriableFailure(k failureKind) bool {
	if p.on&(retryOn5xx|retryOnGatewayError) != 0 {
		return true
	}
	switch k {
	case failConnect:
		return p.on&(retryOnConnectFailure|retryOnReset) != 0
	case failReset:
		return p.on&retryOnReset != 0
	}
	return false
}

// backoff is Envoy's jittered exponential back-off: before retry n (1-based)
// wait a uniform random time in [0, (2^n - 1) * base), capped at max.
func (p *retryPolicy) backoff(n int) time.Duration {
	span := float64(int64(1)<<min(n, 62)-1) * float64(p.base)
	return min(time.Duration(rand.Int64N(int64(min(span, math.MaxInt64/2)))), p.max)
}
