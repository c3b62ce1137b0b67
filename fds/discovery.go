// Package fds is function discovery: the contract every discoverer keeps
// (fds/openapi, fds/lambda, fds/azure), and the poller that runs them.
package fds

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gluon-gateway/gluon/functions"
)

// Discoverer finds the functions of one upstream. Its error says what the
// poller does next, per Gloo's FDS contract:
//   - one matching ErrNotMine: the upstream has no functions of this kind;
//     polling stops until the upstream changes;
//   - one IsTransient reports: retried soon, with back-off;
//   - any other: reported, and tried again at the poll interval.
type Discoverer interface {
	Discover(ctx context.Context) (functions.Discovered, error)
}

// ErrNotMine is what NotMine errors match.
var ErrNotMine = errors.New("no functions of this kind")

var errTransient = errors.New("transient")

// NotMine marks err as "this upstream has no functions of my kind".
func NotMine(err error) error { return marked{err, ErrNotMine} }

// Transient marks err as worth retrying soon.
func Transient(err error) error { return marked{err, errTransient} }

// IsTransient reports whether err was marked Transient.
func IsTransient(err error) bool { return errors.Is(err, errTransient) }

// marked is an error that keeps its message and matches mark too.
type marked struct{ err, mark error }

func (m marked) Error() string        { return m.err.Error() }
func (m marked) Unwrap() error        { return m.err }
func (m marked) Is(target error) bool { return target == m.mark }

// Target is what to poll for one upstream: Key changes whenever what the
// discoverer polls does (an address, a document URL, a secret), which
// restarts its poller.
type Target struct {
	Key        string
	Discoverer Discoverer
}

// Poller runs one polling goroutine per target, writing what each finds
// into the catalog.
type Poller struct {
	catalog *functions.Catalog
	log     *slog.Logger
	// Observe, when set before the first Sync, is told of every poll: its
	// outcome and how long it took.
	Observe func(ref functions.UpstreamRef, outcome PollOutcome, took time.Duration)

	mu      sync.Mutex
	running map[functions.UpstreamRef]*polling
}

type polling struct {
	key      string
	interval time.Duration
	cancel   context.CancelFunc
}

// PollOutcome is what a poll found.
type PollOutcome string

// The outcomes of a poll.
const (
	PollFound     PollOutcome = "found"
	PollNotMine   PollOutcome = "not_mine"
	PollTransient PollOutcome = "transient"
	PollFailed    PollOutcome = "failed"
)

// outcome classifies a poll's error.
func outcome(err error) PollOutcome {
	switch {
	case err == nil:
		return PollFound
	case errors.Is(err, ErrNotMine):
		return PollNotMine
	case IsTransient(err):
		return PollTransient
	}
	return PollFailed
}

// NewPoller returns a poller writing into c.
func NewPoller(c *functions.Catalog, log *slog.Logger) *Poller {
	return &Poller{catalog: c, log: log, running: map[functions.UpstreamRef]*polling{}}
}

// Sync makes the pollers match targets: started for new upstreams,
// restarted when a target's key or the interval changes, stopped (and the
// upstream's entry removed) when it goes.
func (p *Poller) Sync(ctx context.Context, targets map[functions.UpstreamRef]Target, interval time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ref, run := range p.running {
		if t, ok := targets[ref]; !ok || t.Key != run.key || interval != run.interval {
			run.cancel()
			delete(p.running, ref)
			if !ok {
				p.catalog.Delete(ref)
			}
		}
	}
	for ref, t := range targets {
		if _, ok := p.running[ref]; ok {
			continue
		}
		pctx, cancel := context.WithCancel(ctx)
		p.running[ref] = &polling{key: t.Key, interval: interval, cancel: cancel}
		go p.poll(pctx, ref, t.Discoverer, interval)
	}
}

// Stop stops every poller and keeps what they found in the catalog: a
// replica that stops leading serves it until the new leader's results
// replace it.
func (p *Poller) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ref, run := range p.running {
		run.cancel()
		delete(p.running, ref)
	}
}

// poll discovers an upstream's functions every interval; a transient
// failure is retried with exponential back-off (capped at the interval).
func (p *Poller) poll(ctx context.Context, ref functions.UpstreamRef, d Discoverer, interval time.Duration) {
	backoff := time.Second
	for {
		start := time.Now()
		found, err := d.Discover(ctx)
		wait := interval
		if p.Observe != nil && ctx.Err() == nil {
			p.Observe(ref, outcome(err), time.Since(start))
		}
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			found.Upstream = ref
			p.catalog.Set(found)
			backoff = time.Second
		case errors.Is(err, ErrNotMine):
			p.log.Info("no functions of a known kind on this upstream", "upstream", ref.String(), "reason", err)
			p.catalog.Delete(ref)
			return
		default:
			if IsTransient(err) {
				wait = min(backoff, interval)
				backoff *= 2
			}
			p.log.Warn("function discovery failed", "upstream", ref.String(), "err", err, "retry-in", wait)
			p.catalog.SetError(ref, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// Reused is a discoverer's client, made on the first poll and kept, so
// that what it holds (an assumed role's credentials, a token) is reused
// until it expires instead of asked for on every poll. A configuration
// error given at the start is what every poll reports instead.
type Reused[C any] struct {
	cfgErr error
	build  func() (C, error)
	client C
	made   bool
}

// NewReused returns a client maker; cfgErr, when not nil, is all it gives.
func NewReused[C any](cfgErr error, build func() (C, error)) Reused[C] {
	return Reused[C]{cfgErr: cfgErr, build: build}
}

// Get returns the client, making it on first use.
func (r *Reused[C]) Get() (C, error) {
	if r.cfgErr != nil || r.made {
		return r.client, r.cfgErr
	}
	c, err := r.build()
	if err != nil {
		return c, err
	}
	r.client, r.made = c, true
	return c, nil
}

// Classified marks a discoverer's error Transient when transient says so.
func Classified(err error, transient func(error) bool) error {
	if transient(err) {
		return Transient(err)
	}
	return err
}
