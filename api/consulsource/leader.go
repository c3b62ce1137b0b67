package consulsource

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	consulapi "github.com/hashicorp/consul/api"
)

// LeaderKey is the lock key replicas of statusPrefix contend for.
func LeaderKey(statusPrefix string) string { return strings.TrimSuffix(statusPrefix, "/") + "/leader" }

// Election elects one leader among the replicas that share a key: a
// Consul session lock, as `consul lock` takes. The session's TTL bounds
// how long a replica that dies without a word keeps leading.
type Election struct {
	Client *consulapi.Client
	Key    string
	// ID names this replica in the lock's value, for people looking.
	ID  string
	Log *slog.Logger
	// TTL is the session's; 10s when zero.
	TTL time.Duration
}

// Run takes the lock whenever it can and runs lead while it holds it,
// with a context that ends when the lock is lost; it returns when ctx
// ends, having released the lock so another replica takes over at once.
func (e *Election) Run(ctx context.Context, lead func(context.Context)) error {
	ttl := e.TTL
	if ttl == 0 {
		ttl = 10 * time.Second
	}
	lock, err := e.Client.LockOpts(&consulapi.LockOptions{
		Key: e.Key, Value: []byte(e.ID), SessionTTL: ttl.String(),
		SessionOpts: &consulapi.SessionEntry{Name: "gluon leader " + e.ID, TTL: ttl.String(),
			// After a leader dies, the lock waits this long before another
			// may take it (Consul's default is 15s).
			LockDelay: time.Second, Behavior: consulapi.SessionBehaviorRelease},
		MonitorRetries: 5, LockWaitTime: 5 * time.Second,
	})
	if err != nil {
		return fmt.Errorf("consul lock %s: %w", e.Key, err)
	}
	wait := time.Second
	for ctx.Err() == nil {
		lost, err := lock.Lock(ctx.Done())
		if err != nil {
			e.Log.Warn("taking the leader lock; trying again", "key", e.Key, "err", err, "in", wait)
			sleep(ctx, wait)
			wait = min(2*wait, 10*time.Second)
			continue
		}
		if lost == nil {
			break // ctx ended while waiting
		}
		wait = time.Second
		e.lead(ctx, lock, lost, lead)
	}
	return nil
}

// lead runs lead until the lock is lost or ctx ends, then releases it.
func (e *Election) lead(ctx context.Context, lock *consulapi.Lock, lost <-chan struct{}, lead func(context.Context)) {
	e.Log.Info("leading: this replica runs discovery and writes status", "key", e.Key, "id", e.ID)
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); lead(lctx) }()
	select {
	case <-lost:
		e.Log.Warn("lost the leader lock; following", "key", e.Key)
	case <-ctx.Done():
	}
	cancel()
	<-done
	if err := lock.Unlock(); err != nil && err != consulapi.ErrLockNotHeld {
		e.Log.Warn("releasing the leader lock", "key", e.Key, "err", err)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
