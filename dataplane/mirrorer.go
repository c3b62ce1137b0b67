package dataplane

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gluon-gateway/gluon/dataplane/internal/guard"
	"github.com/gluon-gateway/gluon/dataplane/internal/upstream"
)

// maxMirrorsInFlight bounds the mirror requests in flight across the data
// plane: a slow or dead mirror cluster must cost a bounded number of
// goroutines and sockets and never the primary traffic, so over the bound a
// mirror is dropped rather than queued.
const maxMirrorsInFlight = 128

// drainBytes is how much of an unwanted upstream answer (a mirror's, or
// one a retry replaces) is read before it is dropped, so that a small
// answer leaves its connection reusable.
const drainBytes = 4 << 10

var errNoMirrorCluster = errors.New("mirror cluster does not exist")

// MirrorStats counts request mirrors (Gloo's shadowing) since the data plane
// started. A mirror's failure is only counted and logged: it never reaches
// the client.
type MirrorStats struct {
	Sent     uint64 // mirrors started
	Answered uint64 // mirrors the mirror cluster answered, whatever the status
	Failed   uint64 // started but not answered: no cluster or endpoint, connect error, timeout
	Dropped  uint64 // not started: too many in flight, or a body over the buffer limit
}

// mirrorer runs mirrors in the background, each on its own goroutine, at
// most limit at a time. It outlives configs: one per data plane.
type mirrorer struct {
	log    *slog.Logger
	guard  guard.Guard
	ctx    context.Context // cancelled by close: in-flight mirrors stop
	cancel context.CancelFunc
	limit  int

	mu       sync.Mutex
	inFlight int
	closed   bool
	wg       sync.WaitGroup

	sent, answered, failed, dropped atomic.Uint64
}

func newMirrorer(guard guard.Guard, limit int) *mirrorer {
	ctx, cancel := context.WithCancel(context.Background())
	return &mirrorer{log: guard.Log, guard: guard, ctx: ctx, cancel: cancel, limit: limit}
}

func (m *mirrorer) stats() MirrorStats {
	return MirrorStats{Sent: m.sent.Load(), Answered: m.answered.Load(), Failed: m.failed.Load(), Dropped: m.dropped.Load()}
}

// acquire takes a slot. The WaitGroup is added to under the lock that close
// sets closed under, so that no mirror starts after close began waiting.
func (m *mirrorer) acquire() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.inFlight >= m.limit {
		return false
	}
	m.inFlight++
	m.wg.Add(1)
	return true
}

func (m *mirrorer) release() {
	m.mu.Lock()
	m.inFlight--
	m.mu.Unlock()
	m.wg.Done()
}

// close stops in-flight mirrors and waits for their goroutines; later
// mirrors are dropped.
func (m *mirrorer) close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
}

// run sends one mirror and drops its answer.
func (m *mirrorer) run(cl *upstreamCluster, name string, r *http.Request, body upstream.Body, target, host string, deadline time.Time) {
	defer m.release()
	defer m.guard.Recover("request mirror", nil, "cluster", name)
	if err := m.send(cl, r, body, target, host, deadline); err != nil {
		m.failed.Add(1)
		m.log.Debug("request mirror failed", "cluster", name, "error", err)
		return
	}
	m.answered.Add(1)
}

func (m *mirrorer) send(cl *upstreamCluster, r *http.Request, body upstream.Body, target, host string, deadline time.Time) error {
	if cl == nil {
		return errNoMirrorCluster // removed by CDS since the route was compiled, as Envoy checks
	}
	resp, err := cl.sideRequest(r, body, target, host, deadline)
	if err != nil {
		return err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, drainBytes)
	_ = resp.Body.Close() // the answer is dropped either way
	return nil
}
