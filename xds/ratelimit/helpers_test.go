package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	rlcommon "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlspb "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"

	"github.com/gluon-gateway/gluon/xds/ratelimit/redistest"
)

// fakeClock is a settable clock; it starts 10s into a minute, so tests can
// cross second and minute windows on purpose.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 10, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// desc builds a descriptor from key, value pairs.
func desc(kv ...string) *rlcommon.RateLimitDescriptor {
	d := &rlcommon.RateLimitDescriptor{}
	for i := 0; i+1 < len(kv); i += 2 {
		d.Entries = append(d.Entries, &rlcommon.RateLimitDescriptor_Entry{Key: kv[i], Value: kv[i+1]})
	}
	return d
}

func request(domain string, ds ...*rlcommon.RateLimitDescriptor) *rlspb.RateLimitRequest {
	return &rlspb.RateLimitRequest{Domain: domain, Descriptors: ds}
}

// backends runs f once per backend; the Redis one gets a fresh server.
func backends(t *testing.T, f func(t *testing.T, newBackend func() Backend)) {
	t.Run("memory", func(t *testing.T) {
		f(t, func() Backend { return Memory() })
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		f(t, func() Backend {
			b := Redis(srv.Addr, time.Second)
			t.Cleanup(func() { _ = b.(*redisBackend).Close() })
			return b
		})
	})
}

func newService(t *testing.T, b Backend, clock *fakeClock, cfgs ...Config) *Service {
	t.Helper()
	s := New(Options{Backend: b, Clock: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err := s.SetConfigs(cfgs); err != nil {
		t.Fatalf("SetConfigs: %v", err)
	}
	return s
}

// call sends r and returns the overall code and per-descriptor codes.
func call(t *testing.T, s *Service, r *rlspb.RateLimitRequest) *rlspb.RateLimitResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := s.ShouldRateLimit(ctx, r)
	if err != nil {
		t.Fatalf("ShouldRateLimit: %v", err)
	}
	return resp
}

func perMinute(n uint32) *Limit { return &Limit{Unit: "minute", RequestsPerUnit: n} }
func perSecond(n uint32) *Limit { return &Limit{Unit: "second", RequestsPerUnit: n} }
