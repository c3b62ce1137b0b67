package ratelimit

import (
	"context"
	"time"
)

// Backend keeps the counters of fixed windows. It is the only thing that
// differs between one in-process service (Memory) and several services
// sharing counters (Redis).
type Backend interface {
	// Increment adds hits[i].N to the counter hits[i].Key and returns every
	// counter's value after its increment, in order. A counter lives at
	// least until hits[i].Expire. One call is made per request, so a
	// networked backend can do it in one round trip.
	Increment(ctx context.Context, now time.Time, hits []Hit) ([]uint64, error)
}

// Hit is one counter increment.
type Hit struct {
	// Key names the counter; it already includes the window start.
	Key string
	N   uint64
	// Window is the limit's unit; Expire is the end of the current window.
	Window time.Duration
	Expire time.Time
}
