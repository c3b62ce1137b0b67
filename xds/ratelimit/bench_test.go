package ratelimit

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	rlcommon "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlspb "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"

	"github.com/gluon-gateway/gluon/xds/ratelimit/redistest"
)

// benchConfig limits per user and per path, nested under a route key, the
// usual shape of a gateway's descriptors.
var benchConfig = Config{Domain: "bench", Descriptors: []Descriptor{
	{Key: "route", Value: "r1", Descriptors: []Descriptor{
		{Key: "user", RateLimit: &Limit{Unit: "second", RequestsPerUnit: 1000}},
	}},
	{Key: "path", RateLimit: &Limit{Unit: "minute", RequestsPerUnit: 1 << 30}},
	{Key: "remote_address", RateLimit: &Limit{Unit: "hour", RequestsPerUnit: 1 << 30}},
}}

// benchRequests are 1,000 users' requests, each with 1 or 3 descriptors.
func benchRequests(descriptors int) []*rlspb.RateLimitRequest {
	out := make([]*rlspb.RateLimitRequest, 1000)
	for i := range out {
		u := strconv.Itoa(i)
		ds := []*rlcommon.RateLimitDescriptor{desc("route", "r1", "user", "u"+u)}
		if descriptors == 3 {
			ds = append(ds, desc("path", "/p/"+u), desc("remote_address", "10.0.0."+u))
		}
		out[i] = request("bench", ds...)
	}
	return out
}

// benchService runs parallel decisions; inFlight is goroutines per
// GOMAXPROCS, which a networked backend needs to keep its pipe full.
func benchService(b *testing.B, backend Backend, descriptors, inFlight int) {
	s := New(Options{Backend: backend, Logger: slog.New(slog.DiscardHandler)})
	b.Cleanup(func() { _ = s.Close() })
	if err := s.SetConfigs([]Config{benchConfig}); err != nil {
		b.Fatal(err)
	}
	reqs := benchRequests(descriptors)
	var next atomic.Uint64
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(inFlight)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := reqs[next.Add(1)%uint64(len(reqs))]
			if _, err := s.ShouldRateLimit(ctx, r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

func BenchmarkShouldRateLimitMemory(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(strconv.Itoa(n)+"desc", func(b *testing.B) { benchService(b, Memory(), n, 1) })
	}
}

// BenchmarkShouldRateLimitRedis measures decisions against a real Redis on
// loopback: one pipelined round trip per decision, many in flight.
func BenchmarkShouldRateLimitRedis(b *testing.B) {
	srv := redistest.Start(b)
	for _, n := range []int{1, 3} {
		b.Run(strconv.Itoa(n)+"desc", func(b *testing.B) {
			// A generous timeout: the benchmark measures throughput, and
			// 2 shared cores under load can stall a round trip past 50ms.
			benchService(b, Redis(srv.Addr, time.Second), n, 16)
		})
	}
}
