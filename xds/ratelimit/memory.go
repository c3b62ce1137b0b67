package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultMemoryCounters bounds Memory(); a counter costs roughly 100-200
// bytes, depending on its key.
const DefaultMemoryCounters = 1 << 20

// ErrMemoryFull is returned when the memory backend has no room for a new
// counter even after dropping expired ones. The RPC then fails, and Envoy
// applies its failure mode, rather than the service silently forgetting a
// counter (which would let its traffic through unlimited).
var ErrMemoryFull = errors.New("ratelimit: memory backend is full")

// Memory returns a Backend that keeps counters in this process, bounded to
// DefaultMemoryCounters live counters.
func Memory() Backend { return NewMemory(DefaultMemoryCounters) }

// NewMemory returns a Backend that keeps at most maxCounters live counters.
func NewMemory(maxCounters int) Backend {
	if maxCounters < 1 {
		maxCounters = 1
	}
	return &memory{max: maxCounters, counters: make(map[string]counter)}
}

type memory struct {
	mu        sync.Mutex
	max       int
	counters  map[string]counter
	nextSweep time.Time
}

type counter struct {
	n      uint64
	expire time.Time
}

// sweepEvery spaces full sweeps so their O(n) cost is paid at most once a
// second, whatever the request rate.
const sweepEvery = time.Second

func (m *memory) Increment(_ context.Context, now time.Time, hits []Hit) ([]uint64, error) {
	out := make([]uint64, len(hits))
	m.mu.Lock()
	defer m.mu.Unlock()
	if !now.Before(m.nextSweep) {
		m.sweep(now)
	}
	for i, h := range hits {
		c, ok := m.counters[h.Key]
		if !ok && len(m.counters) >= m.max {
			// No sweep here: sweeping on every miss while full would make
			// each request O(counters). Earlier hits of this request stay
			// counted, as when a Redis pipeline fails half way.
			return nil, fmt.Errorf("%w (%d counters)", ErrMemoryFull, m.max)
		}
		if !ok || !now.Before(c.expire) {
			c = counter{expire: h.Expire} // new, or expired but not yet swept
		}
		c.n += h.N
		if h.Expire.After(c.expire) {
			c.expire = h.Expire
		}
		m.counters[h.Key] = c
		out[i] = c.n
	}
	return out, nil
}

func (m *memory) sweep(now time.Time) {
	for k, c := range m.counters {
		if !now.Before(c.expire) {
			delete(m.counters, k)
		}
	}
	m.nextSweep = now.Add(sweepEvery)
}

// len is for tests.
func (m *memory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.counters)
}
