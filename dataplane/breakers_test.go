package dataplane

import (
	"context"
	"errors"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestBreakers(t *testing.T) {
	b, err := compileBreakers(&clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		MaxConnections: wrapperspb.UInt32(1), MaxPendingRequests: wrapperspb.UInt32(1), MaxRequests: wrapperspb.UInt32(3), MaxRetries: wrapperspb.UInt32(1),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := b.admit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The one connection is taken: the next waits, pending; the third
	// finds the pending slot taken and overflows.
	admitted := make(chan func(), 1)
	go func() {
		release, err := b.admit(ctx)
		if err != nil {
			t.Error(err)
		}
		admitted <- release
	}()
	deadline := time.Now().Add(5 * time.Second)
	for b.pending.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the second request never became pending")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := b.admit(ctx); !errors.Is(err, errOverflow) {
		t.Fatalf("past max_pending_requests: %v, want overflow", err)
	}
	first()
	(<-admitted)()
	if b.requests.Load() != 0 || b.pending.Load() != 0 {
		t.Fatalf("%d requests, %d pending after all were released", b.requests.Load(), b.pending.Load())
	}
	done, ok := b.retry()
	if !ok {
		t.Fatal("the first retry was refused")
	}
	if _, ok := b.retry(); ok {
		t.Fatal("a retry past max_retries was allowed")
	}
	done()
	if none, err := compileBreakers(nil); none != nil || err != nil {
		t.Fatalf("no circuit_breakers: %v %v", none, err)
	}
}

func TestRetryBudget(t *testing.T) {
	b, err := compileBreakers(&clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
		MaxRetries: wrapperspb.UInt32(100),
		RetryBudget: &clusterv3.CircuitBreakers_Thresholds_RetryBudget{
			BudgetPercent: &typev3.Percent{Value: 50}, MinRetryConcurrency: wrapperspb.UInt32(1)},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var releases []func()
	for range 4 {
		release, err := b.admit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	// Half of 4 active requests may be retries, whatever max_retries says.
	for i := range 2 {
		if _, ok := b.retry(); !ok {
			t.Fatalf("retry %d within the budget was refused", i+1)
		}
	}
	if _, ok := b.retry(); ok {
		t.Fatal("a retry past the budget was allowed")
	}
	for _, r := range releases {
		r()
	}
}
