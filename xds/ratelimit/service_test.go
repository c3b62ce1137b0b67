package ratelimit

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rlcommon "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlspb "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	OK   = rlspb.RateLimitResponse_OK
	OVER = rlspb.RateLimitResponse_OVER_LIMIT
)

var apiConfig = Config{Domain: "api", Descriptors: []Descriptor{
	{Key: "path", Value: "/slow", RateLimit: perMinute(3)},
	{Key: "user", RateLimit: perMinute(2)}, // per user
	{Key: "burst", RateLimit: perSecond(1)},
	{Key: "shadow", RateLimit: perMinute(1), ShadowMode: true},
	{Key: "vip", RateLimit: &Limit{Unlimited: true}},
}}

func TestFixedWindow(t *testing.T) {
	backends(t, func(t *testing.T, newBackend func() Backend) {
		clock := newClock() // 03:04:10
		s := newService(t, newBackend(), clock, apiConfig)
		r := request("api", desc("path", "/slow"))
		for i, wantRemaining := range []uint32{2, 1, 0} {
			resp := call(t, s, r)
			st := resp.Statuses[0]
			if resp.OverallCode != OK || st.Code != OK || st.LimitRemaining != wantRemaining {
				t.Fatalf("hit %d: %v", i+1, resp)
			}
			if st.CurrentLimit.GetRequestsPerUnit() != 3 || st.CurrentLimit.GetUnit() != rlspb.RateLimitResponse_RateLimit_MINUTE {
				t.Fatalf("CurrentLimit = %v", st.CurrentLimit)
			}
			if got := st.DurationUntilReset.AsDuration(); got != 50*time.Second {
				t.Fatalf("DurationUntilReset = %v, want 50s (window ends at 03:05:00)", got)
			}
		}
		resp := call(t, s, r)
		if resp.OverallCode != OVER || resp.Statuses[0].Code != OVER || resp.Statuses[0].LimitRemaining != 0 {
			t.Fatalf("4th hit: %v, want OVER_LIMIT", resp)
		}
		clock.Add(49 * time.Second) // 03:04:59, same window
		if call(t, s, r).OverallCode != OVER {
			t.Fatal("still the same window: want OVER_LIMIT")
		}
		clock.Add(time.Second) // 03:05:00: windows are aligned to the unit
		resp = call(t, s, r)
		if resp.OverallCode != OK || resp.Statuses[0].LimitRemaining != 2 ||
			resp.Statuses[0].DurationUntilReset.AsDuration() != time.Minute {
			t.Fatalf("new window: %v", resp)
		}
	})
}

func TestWildcardCountsEachValue(t *testing.T) {
	backends(t, func(t *testing.T, newBackend func() Backend) {
		s := newService(t, newBackend(), newClock(), apiConfig)
		for range 2 {
			call(t, s, request("api", desc("user", "alice")))
		}
		if call(t, s, request("api", desc("user", "alice"))).OverallCode != OVER {
			t.Fatal("alice's 3rd hit: want OVER_LIMIT")
		}
		if resp := call(t, s, request("api", desc("user", "bob"))); resp.OverallCode != OK || resp.Statuses[0].LimitRemaining != 1 {
			t.Fatalf("bob has his own counter: %v", resp)
		}
	})
}

func TestResponseShapes(t *testing.T) {
	backends(t, func(t *testing.T, newBackend func() Backend) {
		s := newService(t, newBackend(), newClock(), apiConfig)
		// One over-limit descriptor makes the whole answer OVER_LIMIT; the
		// others keep their own status, in request order.
		call(t, s, request("api", desc("burst", "x")))
		resp := call(t, s, request("api",
			desc("nothing", "matches"), desc("burst", "x"), desc("vip", "v"), desc("path", "/slow")))
		if resp.OverallCode != OVER {
			t.Fatalf("overall = %v", resp.OverallCode)
		}
		none, over, vip, ok := resp.Statuses[0], resp.Statuses[1], resp.Statuses[2], resp.Statuses[3]
		if none.Code != OK || none.CurrentLimit != nil || none.DurationUntilReset != nil {
			t.Errorf("no match: %v, want OK without limit", none)
		}
		if over.Code != OVER || over.DurationUntilReset.AsDuration() != time.Second {
			t.Errorf("burst: %v", over)
		}
		if vip.Code != OK || vip.CurrentLimit != nil || vip.LimitRemaining != math.MaxUint32 {
			t.Errorf("unlimited: %v", vip)
		}
		if ok.Code != OK || ok.LimitRemaining != 2 {
			t.Errorf("path: %v", ok)
		}
		// An unknown domain limits nothing.
		if resp := call(t, s, request("other", desc("burst", "x"))); resp.OverallCode != OK || resp.Statuses[0].CurrentLimit != nil {
			t.Errorf("unknown domain: %v", resp)
		}
	})
}

func TestHitsAddend(t *testing.T) {
	backends(t, func(t *testing.T, newBackend func() Backend) {
		s := newService(t, newBackend(), newClock(), apiConfig)
		r := request("api", desc("path", "/slow"))
		r.HitsAddend = 2
		if resp := call(t, s, r); resp.OverallCode != OK || resp.Statuses[0].LimitRemaining != 1 {
			t.Fatalf("+2: %v", resp)
		}
		// Per-descriptor hits_addend wins over the request's; 0 only checks.
		d := desc("path", "/slow")
		d.HitsAddend = wrapperspb.UInt64(0)
		r = request("api", d)
		r.HitsAddend = 5
		if resp := call(t, s, r); resp.OverallCode != OK || resp.Statuses[0].LimitRemaining != 1 {
			t.Fatalf("+0: %v", resp)
		}
		r = request("api", desc("path", "/slow"))
		r.HitsAddend = 2 // 4 > 3
		if resp := call(t, s, r); resp.OverallCode != OVER {
			t.Fatalf("+2 more: %v, want OVER_LIMIT", resp)
		}
	})
}

func TestShadowMode(t *testing.T) {
	backends(t, func(t *testing.T, newBackend func() Backend) {
		s := newService(t, newBackend(), newClock(), apiConfig)
		for i := range 3 {
			resp := call(t, s, request("api", desc("shadow", "s")))
			st := resp.Statuses[0]
			if resp.OverallCode != OK || st.Code != OK {
				t.Fatalf("hit %d: %v, shadow mode never limits", i+1, resp)
			}
			// It still counts, so the status shows it would be over.
			if want := uint32(max(0, 1-(i+1))); st.LimitRemaining != want {
				t.Fatalf("hit %d: remaining %d, want %d", i+1, st.LimitRemaining, want)
			}
		}
	})
}

func TestReloadKeepsCounters(t *testing.T) {
	backends(t, func(t *testing.T, newBackend func() Backend) {
		s := newService(t, newBackend(), newClock(), apiConfig)
		slow, alice := request("api", desc("path", "/slow")), request("api", desc("user", "alice"))
		call(t, s, slow)
		call(t, s, slow)
		call(t, s, alice)

		// Add a limit and raise user's: /slow keeps its count (1 left), and
		// alice's counter (1 used) now counts against 5.
		next := Config{Domain: "api", Descriptors: append([]Descriptor{
			{Key: "new", RateLimit: perMinute(1)},
			{Key: "user", RateLimit: perMinute(5)},
		}, apiConfig.Descriptors[0])}
		if err := s.SetConfigs([]Config{next}); err != nil {
			t.Fatal(err)
		}
		if resp := call(t, s, slow); resp.Statuses[0].LimitRemaining != 0 || resp.OverallCode != OK {
			t.Fatalf("/slow after reload: %v, want its 3rd hit", resp)
		}
		if resp := call(t, s, alice); resp.Statuses[0].LimitRemaining != 3 || resp.Statuses[0].CurrentLimit.RequestsPerUnit != 5 {
			t.Fatalf("alice after reload: %v, want 2 of 5 used", resp)
		}
		// Lowering a limit below the count applies at once.
		next.Descriptors[1].RateLimit = perMinute(2)
		if err := s.SetConfigs([]Config{next}); err != nil {
			t.Fatal(err)
		}
		if resp := call(t, s, alice); resp.OverallCode != OVER {
			t.Fatalf("alice after lowering: %v, want OVER_LIMIT", resp)
		}
	})
}

func TestLimitOverride(t *testing.T) {
	s := newService(t, Memory(), newClock(), apiConfig)
	d := desc("anything", "x")
	d.Limit = &rlcommon.RateLimitDescriptor_RateLimitOverride{RequestsPerUnit: 1, Unit: typev3.RateLimitUnit_HOUR}
	if resp := call(t, s, request("api", d)); resp.OverallCode != OK || resp.Statuses[0].CurrentLimit.GetUnit() != rlspb.RateLimitResponse_RateLimit_HOUR {
		t.Fatalf("override: %v", resp)
	}
	if resp := call(t, s, request("api", d)); resp.OverallCode != OVER {
		t.Fatalf("override, 2nd hit: %v", resp)
	}
}

func TestBadRequests(t *testing.T) {
	s := newService(t, Memory(), newClock(), apiConfig)
	for name, r := range map[string]*rlspb.RateLimitRequest{
		"no domain":      request("", desc("k", "v")),
		"no descriptors": request("api"),
	} {
		if _, err := s.ShouldRateLimit(context.Background(), r); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: err = %v, want InvalidArgument", name, err)
		}
	}
}

func TestMemoryBound(t *testing.T) {
	clock := newClock()
	b := NewMemory(2)
	s := newService(t, b, clock, apiConfig)
	call(t, s, request("api", desc("user", "a")))
	call(t, s, request("api", desc("user", "b")))
	_, err := s.ShouldRateLimit(context.Background(), request("api", desc("user", "c")))
	if status.Code(err) != codes.Unavailable || !errors.Is(err, ErrMemoryFull) {
		t.Fatalf("third counter: err = %v, want Unavailable wrapping ErrMemoryFull", err)
	}
	// Existing counters keep working, and expired windows are swept.
	call(t, s, request("api", desc("user", "a")))
	clock.Add(time.Minute)
	call(t, s, request("api", desc("user", "c")))
	if n := b.(*memory).len(); n != 1 {
		t.Fatalf("%d counters after the window, want 1", n)
	}
}

// TestConcurrentCountIsExact: concurrent hits on one counter are never
// lost or double counted, so exactly the limit's number get OK.
func TestConcurrentCountIsExact(t *testing.T) {
	backends(t, func(t *testing.T, newBackend func() Backend) {
		cfg := Config{Domain: "c", Descriptors: []Descriptor{{Key: "k", RateLimit: perMinute(150)}}}
		s := newService(t, newBackend(), newClock(), cfg)
		var oks atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					resp, err := s.ShouldRateLimit(context.Background(), request("c", desc("k", "v")))
					if err != nil {
						t.Error(err)
						return
					}
					if resp.OverallCode == OK {
						oks.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if oks.Load() != 150 {
			t.Fatalf("%d of 200 concurrent hits were OK, want exactly 150", oks.Load())
		}
	})
}

// TestCounts: every answer is counted once, by what it was.
func TestCounts(t *testing.T) {
	s := newService(t, NewMemory(1), newClock(), apiConfig)
	call(t, s, request("api", desc("path", "/slow")))
	for range 3 {
		call(t, s, request("api", desc("path", "/slow"))) // the 3rd is over the limit
	}
	_, _ = s.ShouldRateLimit(context.Background(), request("api"))                    // invalid
	_, _ = s.ShouldRateLimit(context.Background(), request("api", desc("user", "b"))) // memory full
	if got, want := s.Counts(), (Counts{OK: 3, OverLimit: 1, Invalid: 1, BackendErrors: 1}); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}
