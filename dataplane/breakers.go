package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"golang.org/x/sync/semaphore"
)

// Envoy's circuit breaker defaults, for a threshold that leaves a field out.
const (
	defaultMaxConnections     = 1024
	defaultMaxPendingRequests = 1024
	defaultMaxRequests        = 1024
	defaultMaxRetries         = 3
)

// breakers are a cluster's circuit breakers. A request takes a connection
// slot (HTTP/1.1 sends one request per connection at a time), waiting as
// pending when none is free; past max_pending_requests, or past
// max_requests in flight, it overflows: 503 with x-envoy-overloaded, at
// once, as in Envoy. Retries in flight are held to max_retries.
type breakers struct {
	connections *semaphore.Weighted
	maxPending  int64
	maxRequests int64
	maxRetries  int64
	// budget, when set, bounds retries to a share of the requests active
	// (in flight or pending) instead of maxRetries, never below minRetries.
	budget            float64
	minRetries        int64
	pending, requests atomic.Int64
	retries           atomic.Int64
}

// compileBreakers reads circuit_breakers; nil when the cluster has none
// (then nothing is limited).
func compileBreakers(cb *clusterv3.CircuitBreakers) (*breakers, error) {
	if cb == nil {
		return nil, nil
	}
	if err := onlyFields(cb, "thresholds"); err != nil {
		return nil, err
	}
	b := &breakers{connections: semaphore.NewWeighted(defaultMaxConnections), maxPending: defaultMaxPendingRequests,
		maxRequests: defaultMaxRequests, maxRetries: defaultMaxRetries}
	for i, t := range cb.GetThresholds() {
		if err := onlyFields(t, "priority", "max_connections", "max_pending_requests", "max_requests", "max_retries", "retry_budget"); err != nil {
			return nil, fmt.Errorf("thresholds[%d]: %w", i, err)
		}
		if t.GetPriority() != core.RoutingPriority_DEFAULT {
			return nil, fmt.Errorf("thresholds[%d]: only the DEFAULT priority is supported", i)
		}
		if v := t.GetMaxConnections(); v != nil {
			b.connections = semaphore.NewWeighted(int64(v.GetValue()))
		}
		if v := t.GetMaxPendingRequests(); v != nil {
			b.maxPending = int64(v.GetValue())
		}
		if v := t.GetMaxRequests(); v != nil {
			b.maxRequests = int64(v.GetValue())
		}
		if v := t.GetMaxRetries(); v != nil {
			b.maxRetries = int64(v.GetValue())
		}
		if err := b.compileBudget(t.GetRetryBudget()); err != nil {
			return nil, fmt.Errorf("thresholds[%d].retry_budget: %w", i, err)
		}
	}
	return b, nil
}

// Envoy's retry budget defaults.
const (
	defaultBudgetPercent       = 20
	defaultMinRetryConcurrency = 3
)

func (b *breakers) compileBudget(rb *clusterv3.CircuitBreakers_Thresholds_RetryBudget) error {
	if rb == nil {
		return nil
	}
	if err := onlyFields(rb, "budget_percent", "min_retry_concurrency"); err != nil {
		return err
	}
	b.budget, b.minRetries = defaultBudgetPercent, defaultMinRetryConcurrency
	if p := rb.GetBudgetPercent(); p != nil {
		if p.GetValue() < 0 || p.GetValue() > 100 {
			return fmt.Errorf("budget_percent %v is not a percentage", p.GetValue())
		}
		b.budget = p.GetValue()
	}
	if m := rb.GetMinRetryConcurrency(); m != nil {
		b.minRetries = int64(m.GetValue())
	}
	return nil
}

// retryLimit is how many retries may be in flight now.
func (b *breakers) retryLimit() int64 {
	if b.budget == 0 && b.minRetries == 0 {
		return b.maxRetries
	}
	active := b.requests.Load() + b.pending.Load()
	return max(b.minRetries, int64(b.budget*float64(active)/100))
}

// errOverflow is a request the breakers turned away.
var errOverflow = errors.New("overflow")

// admit takes a request slot and a connection slot, waiting for the latter
// as a pending request when it may; release gives both back. An error is
// errOverflow, or ctx's when the client went away while pending.
func (b *breakers) admit(ctx context.Context) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	if b.requests.Add(1) > b.maxRequests {
		b.requests.Add(-1)
		return nil, errOverflow
	}
	if !b.connections.TryAcquire(1) {
		if b.pending.Add(1) > b.maxPending {
			b.pending.Add(-1)
			b.requests.Add(-1)
			return nil, errOverflow
		}
		err := b.connections.Acquire(ctx, 1)
		b.pending.Add(-1)
		if err != nil {
			b.requests.Add(-1)
			return nil, err
		}
	}
	return func() {
		b.connections.Release(1)
		b.requests.Add(-1)
	}, nil
}

// retry takes a retry slot; done gives it back. false: max_retries are in
// flight, and the request is not retried.
func (b *breakers) retry() (done func(), ok bool) {
	if b == nil {
		return func() {}, true
	}
	if b.retries.Add(1) > b.retryLimit() {
		b.retries.Add(-1)
		return nil, false
	}
	return func() { b.retries.Add(-1) }, true
}

// overloaded is Envoy's answer to an overflow.
func overloaded(w http.ResponseWriter) {
	w.Header()["X-Envoy-Overloaded"] = []string{"true"}
	localReply(w, http.StatusServiceUnavailable, "upstream connect error or disconnect/reset before headers. reset reason: overflow")
}
