package dataplane

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"weak"
)

// monoBase anchors tokenBucket times on the monotonic clock.
var monoBase = time.Now()

func monoNow() int64 { return int64(time.Since(monoBase)) }

// bucketSettings is a token_bucket: max_tokens, tokens_per_fill, fill_interval.
type bucketSettings struct {
	maxTokens     uint32
	tokensPerFill uint32
	fillInterval  time.Duration
}

// tokenBucket is Envoy's local rate limit bucket (AtomicTokenBucketImpl,
// the only one since Envoy 1.34): it starts full and refills continuously,
// tokens_per_fill per fill_interval on average, up to max_tokens. Rather
// than a count, it stores the instant at which it was (or would have been)
// empty, so that taking a token is one compare-and-swap.
type tokenBucket struct {
	max     float64
	perNano float64 // fill rate in tokens per nanosecond
	emptyAt atomic.Int64
}

func newTokenBucket(s bucketSettings) *tokenBucket {
	b := &tokenBucket{max: float64(s.maxTokens), perNano: float64(s.tokensPerFill) / float64(s.fillInterval)}
	b.emptyAt.Store(monoNow() - int64(b.max/b.perNano))
	return b
}

func (b *tokenBucket) tokensAt(now, emptyAt int64) float64 {
	return min(b.max, float64(now-emptyAt)*b.perNano)
}

// take consumes one token; false when there is none.
func (b *tokenBucket) take() bool {
	now := monoNow()
	for {
		old := b.emptyAt.Load()
		tokens := b.tokensAt(now, old)
		if tokens < 1 {
			return false
		}
		if b.emptyAt.CompareAndSwap(old, now-int64((tokens-1)/b.perNano)) {
			return true
		}
	}
}

// remaining is the whole tokens left, as Envoy's x-ratelimit-remaining.
func (b *tokenBucket) remaining() uint64 {
	return uint64(b.tokensAt(monoNow(), b.emptyAt.Load()))
}

// resetSeconds is Envoy's x-ratelimit-reset for a local bucket: 0 while a
// token is left, else the whole seconds (rounded down, as Envoy's integer
// division does) until the next one.
func (b *tokenBucket) resetSeconds() uint64 {
	tokens := b.tokensAt(monoNow(), b.emptyAt.Load())
	if tokens >= 1 {
		return 0
	}
	ms := math.Ceil((1 - tokens) / b.perNano / float64(time.Millisecond))
	return uint64(ms) / 1000
}

// bucketKey identifies a bucket across config updates: the level that owns
// the config and the bucket's settings. An unchanged config keeps its
// bucket (Envoy would start a new, full one on every route update, which
// makes limits leak on unrelated changes); changed settings start afresh.
type bucketKey struct {
	table, vhost, route string // vhost and route empty for higher levels
	settings            bucketSettings
}

// bucketStore hands out the buckets of the configs being served. It holds
// them weakly: a bucket lives as long as a compiled config refers to it,
// so buckets of removed routes go away with the last config using them.
type bucketStore struct {
	mu      sync.Mutex
	buckets map[bucketKey]weak.Pointer[tokenBucket]
}

func newBucketStore() *bucketStore {
	return &bucketStore{buckets: map[bucketKey]weak.Pointer[tokenBucket]{}}
}

func (s *bucketStore) bucket(k bucketKey) *tokenBucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.buckets[k].Value(); b != nil {
		return b
	}
	b := newTokenBucket(k.settings)
	s.buckets[k] = weak.Make(b)
	runtime.AddCleanup(b, s.forget, k)
	return b
}

// forget drops k once its bucket is collected, unless it was replaced.
func (s *bucketStore) forget(k bucketKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[k].Value() == nil {
		delete(s.buckets, k)
	}
}
