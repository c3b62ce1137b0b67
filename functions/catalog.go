package functions

import (
	"maps"
	"reflect"
	"sort"
	"sync"
)

// Catalog holds what discovery found for every upstream. Discoverers write
// to it; the translation loop reads a snapshot of it when notified.
type Catalog struct {
	mu       sync.Mutex
	entries  map[UpstreamRef]Discovered
	watchers []chan struct{}
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog { return &Catalog{entries: map[UpstreamRef]Discovered{}} }

// Set records an upstream's functions (or its discovery error) and notifies
// watchers if anything changed.
func (c *Catalog) Set(d Discovered) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.entries[d.Upstream]; ok && reflect.DeepEqual(old, d) {
		return
	}
	c.entries[d.Upstream] = d
	c.notifyLocked()
}

// SetError records a discovery failure, keeping the functions found before.
func (c *Catalog) SetError(ref UpstreamRef, err error) {
	c.mu.Lock()
	d := c.entries[ref]
	c.mu.Unlock()
	d.Upstream, d.Error = ref, err.Error()
	c.Set(d)
}

// Delete forgets an upstream.
func (c *Catalog) Delete(ref UpstreamRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[ref]; ok {
		delete(c.entries, ref)
		c.notifyLocked()
	}
}

// Replace makes the catalog hold exactly s (what another replica
// discovered), and notifies watchers if anything changed.
func (c *Catalog) Replace(s Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if maps.EqualFunc(s, c.entries, func(a, b Discovered) bool { return reflect.DeepEqual(a, b) }) {
		return
	}
	c.entries = make(map[UpstreamRef]Discovered, len(s))
	for k, v := range s {
		c.entries[k] = v
	}
	c.notifyLocked()
}

// Snapshot returns a copy of every entry.
func (c *Catalog) Snapshot() Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(Snapshot, len(c.entries))
	for k, v := range c.entries {
		out[k] = v
	}
	return out
}

// Watch returns a channel that receives after every change. Changes are
// coalesced: a slow reader sees one signal for many changes.
func (c *Catalog) Watch() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{}, 1)
	c.watchers = append(c.watchers, ch)
	return ch
}

func (c *Catalog) notifyLocked() {
	for _, ch := range c.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Snapshot is a point-in-time copy of the catalog.
type Snapshot map[UpstreamRef]Discovered

// List returns the entries sorted by upstream.
func (s Snapshot) List() []Discovered {
	out := make([]Discovered, 0, len(s))
	for _, d := range s {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Upstream.String() < out[j].Upstream.String() })
	return out
}
