package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisKeyPrefix starts every counter key Gluon writes to Redis, so its
// keys are easy to find and cannot clash with other users of the database.
// The rest of the key is envoyproxy/ratelimit's cache key format.
const RedisKeyPrefix = "gluon_rl:"

// DefaultRedisTimeout bounds each request's round trip to Redis: a rate
// limit decision that waits longer than this is worse than none, and Envoy
// has its own (larger) timeout and failure mode.
const DefaultRedisTimeout = 50 * time.Millisecond

// Redis returns a Backend that keeps counters in the Redis at addr
// (host:port), shared by every service pointed at it. Each request is one
// pipeline of INCRBY + EXPIRE per descriptor, bounded by timeout (0 means
// DefaultRedisTimeout). The connection is made lazily; Close it with the
// Service.
func Redis(addr string, timeout time.Duration) Backend {
	if timeout <= 0 {
		timeout = DefaultRedisTimeout
	}
	return &redisBackend{
		timeout: timeout,
		client: redis.NewClient(&redis.Options{
			Addr:         addr,
			DialTimeout:  timeout,
			ReadTimeout:  timeout,
			WriteTimeout: timeout,
			PoolTimeout:  timeout,
			// Honour the per-request deadline rather than only the
			// socket timeouts, so a request never outlives timeout.
			ContextTimeoutEnabled: true,
			// INCRBY is not idempotent: a retry after a lost reply
			// would count twice. Failing fast lets Envoy decide.
			MaxRetries: -1,
			// Redis < 7.2 has no CLIENT SETINFO; skip the extra command.
			DisableIdentity: true,
		}),
	}
}

type redisBackend struct {
	client  *redis.Client
	timeout time.Duration
}

func (r *redisBackend) Increment(ctx context.Context, _ time.Time, hits []Hit) ([]uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	pipe := r.client.Pipeline()
	incrs := make([]*redis.IntCmd, len(hits))
	for i, h := range hits {
		key := RedisKeyPrefix + h.Key
		incrs[i] = pipe.IncrBy(ctx, key, int64(h.N))
		// EXPIRE after every INCRBY, as the reference does: the key
		// lives a whole unit past its last hit, which is always past the
		// end of its window (the window start is in the key).
		pipe.Expire(ctx, key, h.Window)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redis %s: %w", r.client.Options().Addr, err)
	}
	out := make([]uint64, len(hits))
	for i, c := range incrs {
		out[i] = uint64(c.Val())
	}
	return out, nil
}

// Close closes the connection pool.
func (r *redisBackend) Close() error { return r.client.Close() }
