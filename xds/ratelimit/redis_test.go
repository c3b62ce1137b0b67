package ratelimit

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gluon-gateway/gluon/xds/ratelimit/redistest"
)

func TestRedisSharedBetweenServices(t *testing.T) {
	srv := redistest.Start(t)
	clock := newClock()
	a := newService(t, Redis(srv.Addr, time.Second), clock, apiConfig)
	b := newService(t, Redis(srv.Addr, time.Second), clock, apiConfig)
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	r := request("api", desc("path", "/slow"))
	call(t, a, r)
	call(t, b, r)
	if resp := call(t, a, r); resp.OverallCode != OK || resp.Statuses[0].LimitRemaining != 0 {
		t.Fatalf("3rd hit (2 on a, 1 on b): %v", resp)
	}
	if resp := call(t, b, r); resp.OverallCode != OVER {
		t.Fatalf("4th hit: %v, want OVER_LIMIT from the shared count", resp)
	}

	// The counter is envoyproxy/ratelimit's key behind Gluon's prefix, and
	// expires after the unit.
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rc.Close()
	start := clock.Now().Unix() / 60 * 60
	key := RedisKeyPrefix + "api_path_/slow_" + strconv.FormatInt(start, 10)
	ctx := context.Background()
	if n, err := rc.Get(ctx, key).Int(); err != nil || n != 4 {
		t.Fatalf("GET %s = %d, %v; want 4", key, n, err)
	}
	if ttl, err := rc.TTL(ctx, key).Result(); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL %s = %v, %v; want within a minute", key, ttl, err)
	}
}

func TestRedisDownFailsFastAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	s := newService(t, Redis(srv.Addr, 0), newClock(), apiConfig) // default 50ms
	t.Cleanup(func() { _ = s.Close() })
	r := request("api", desc("user", "alice"))
	call(t, s, r)

	srv.Stop()
	for i := range 3 { // pooled connections are dead too, not only new dials
		began := time.Now()
		_, err := s.ShouldRateLimit(context.Background(), r)
		if took := time.Since(began); took > time.Second {
			t.Fatalf("attempt %d took %v with Redis down; want a bounded failure", i, took)
		}
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("attempt %d: err = %v, want codes.Unavailable", i, err)
		}
	}
	// Descriptors without a limit need no counters, so they still answer.
	if resp := call(t, s, request("api", desc("nothing", "x"))); resp.OverallCode != OK {
		t.Fatalf("no-limit request with Redis down: %v", resp)
	}

	srv.Restart() // empty: counting starts over
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := s.ShouldRateLimit(context.Background(), r)
		if err == nil {
			if got.Statuses[0].LimitRemaining != 1 {
				t.Fatalf("after restart: %v, want a fresh counter", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis is back but requests still fail: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRedisTimeout(t *testing.T) {
	// A server that accepts and does not answer: the call must give up
	// after its timeout, not hang.
	srv := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rc.Close()
	ctx := context.Background()
	// CLIENT PAUSE holds every client's commands, like a stalled server.
	if err := rc.Do(ctx, "CLIENT", "PAUSE", "2000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	s := newService(t, Redis(srv.Addr, 100*time.Millisecond), newClock(), apiConfig)
	t.Cleanup(func() { _ = s.Close() })
	began := time.Now()
	_, err := s.ShouldRateLimit(ctx, request("api", desc("user", "alice")))
	took := time.Since(began)
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("err = %v, want codes.Unavailable", err)
	}
	if took > time.Second {
		t.Fatalf("took %v with a 100ms timeout", took)
	}
}

// TestRedisOnePipelinePerRequest checks the round trip count: every
// descriptor's INCRBY and EXPIRE go in one pipeline.
func TestRedisOnePipelinePerRequest(t *testing.T) {
	srv := redistest.Start(t)
	b := Redis(srv.Addr, time.Second).(*redisBackend)
	h := &countingHook{}
	b.client.AddHook(h)
	s := newService(t, b, newClock(), apiConfig)
	t.Cleanup(func() { _ = s.Close() })
	call(t, s, request("api", desc("user", "a"), desc("path", "/slow"), desc("nothing", "x"), desc("burst", "b")))
	if h.single != 0 || h.pipelines != 1 || h.pipelined != 6 {
		t.Fatalf("%d single commands, %d pipelines of %d commands; want 0, 1 of 6 (INCRBY+EXPIRE for 3 limits)",
			h.single, h.pipelines, h.pipelined)
	}
}

type countingHook struct{ single, pipelines, pipelined int }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.single++
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.pipelines++
		h.pipelined += len(cmds)
		return next(ctx, cmds)
	}
}
