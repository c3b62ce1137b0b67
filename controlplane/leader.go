package controlplane

import (
	"context"
	"sync"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/functions"
)

// discoveryLead says whether this replica runs function discovery. Alone,
// it always does; elected (ElectDiscovery), only while it leads, the
// others serving the leader's results.
type discoveryLead struct {
	mu      sync.Mutex
	elected bool
	leading bool
}

// runsLocked reports whether this replica's pollers run now; the caller
// holds mu while it acts on the answer.
func (d *discoveryLead) runsLocked() bool { return !d.elected || d.leading }

// ElectDiscovery makes function discovery wait for Lead. Call it before
// the first Apply.
func (p *Pipeline) ElectDiscovery() {
	p.lead.mu.Lock()
	p.lead.elected = true
	p.lead.mu.Unlock()
}

// Lead runs function discovery until ctx ends: the pollers start on the
// upstreams of the config in force, and follow its changes. When ctx ends
// they stop; what they found stays until the next leader's results
// replace it (TakeCatalog).
func (p *Pipeline) Lead(ctx context.Context) {
	p.lead.mu.Lock()
	p.lead.leading = true
	p.lead.mu.Unlock()
	p.syncDiscovery(ctx, p.Resources())
	<-ctx.Done()
	p.lead.mu.Lock()
	p.lead.leading = false
	p.poller.Stop()
	p.lead.mu.Unlock()
}

// TakeCatalog serves what the leader discovered; while this replica
// leads, its own discovery is what counts and s is ignored.
func (p *Pipeline) TakeCatalog(s functions.Snapshot) {
	p.lead.mu.Lock()
	defer p.lead.mu.Unlock()
	if p.lead.runsLocked() {
		return
	}
	p.catalog.Replace(s)
}

// Catalog is what function discovery found, for a leader to publish to
// the other replicas.
func (p *Pipeline) Catalog() *functions.Catalog { return p.catalog }

// syncDiscovery points the pollers at targets, if this replica runs
// discovery now.
func (p *Pipeline) syncDiscovery(ctx context.Context, res api.Resources) {
	p.lead.mu.Lock()
	defer p.lead.mu.Unlock()
	if !p.lead.runsLocked() {
		return
	}
	targets, interval := discoveryTargets(res)
	p.poller.Sync(ctx, targets, interval)
}
