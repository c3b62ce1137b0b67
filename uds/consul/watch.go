// Package consul is upstream discovery in Consul: every service of the
// catalog, per datacenter, with its instances that pass their health
// checks, followed with Consul's blocking queries.
package consul

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/consulsource"
)

// Watcher follows the services of some datacenters.
type Watcher struct {
	Client *consulapi.Client
	// Datacenters are watched; none: the agent's own.
	Datacenters []string
	Log         *slog.Logger
	// Wait is how long one blocking query waits for a change (default 5m).
	Wait time.Duration

	mu       sync.Mutex
	services map[serviceKey]api.ConsulService
	changed  chan struct{}
}

type serviceKey struct{ dc, name string }

// Run watches until ctx ends, calling onChange with every service found
// (sorted by name and datacenter, as api.Resources keeps them) after each change; changes that come
// while onChange runs are coalesced into its next call.
func (w *Watcher) Run(ctx context.Context, onChange func([]api.ConsulService)) error {
	w.services = map[serviceKey]api.ConsulService{}
	w.changed = make(chan struct{}, 1)
	dcs := w.Datacenters
	if len(dcs) == 0 {
		dc, err := w.agentDatacenter(ctx)
		if err != nil {
			return err
		}
		dcs = []string{dc}
	}
	for _, dc := range dcs {
		go w.watchDatacenter(ctx, dc)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.changed:
			onChange(w.list())
		}
	}
}

// agentDatacenter asks the agent which datacenter it is in, until it
// answers or ctx ends.
func (w *Watcher) agentDatacenter(ctx context.Context) (string, error) {
	retry := newBackoff()
	for {
		self, err := w.Client.Agent().Self()
		if err == nil {
			if dc, ok := self["Config"]["Datacenter"].(string); ok && dc != "" {
				return dc, nil
			}
			err = errors.New("the agent did not say its datacenter")
		}
		w.failed(ctx, retry, "agent", "", err)
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
}

func (w *Watcher) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func (w *Watcher) list() []api.ConsulService {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]api.ConsulService, 0, len(w.services))
	for _, s := range w.services {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].Datacenter < out[j].Datacenter
	})
	return out
}

func (w *Watcher) wait() time.Duration {
	if w.Wait > 0 {
		return w.Wait
	}
	return 5 * time.Minute
}

// watchDatacenter follows a datacenter with two blocking queries, as few
// connections as a thousand services need: its service list, and the
// state of every health check in it. A service is read again (its passing
// instances) when it appears, when one of its checks changes, or when a
// check of a node it runs on does.
func (w *Watcher) watchDatacenter(ctx context.Context, dc string) {
	d := &datacenter{w: w, dc: dc, listed: map[string]bool{}, checks: map[string]checkState{}, nodes: map[string][]string{}}
	go d.watchCatalog(ctx)
	d.watchChecks(ctx)
}

// datacenter is one datacenter's watch.
type datacenter struct {
	w  *Watcher
	dc string

	mu     sync.Mutex
	listed map[string]bool       // the catalog's services
	checks map[string]checkState // by node/check id
	nodes  map[string][]string   // service → the nodes of its instances
}

func (d *datacenter) watchCatalog(ctx context.Context) {
	var index uint64
	retry := newBackoff()
	for ctx.Err() == nil {
		q := (&consulapi.QueryOptions{Datacenter: d.dc, WaitIndex: index, WaitTime: d.w.wait()}).WithContext(ctx)
		services, meta, err := d.w.Client.Catalog().Services(q)
		if err != nil {
			d.w.failed(ctx, retry, "catalog", d.dc, err)
			continue
		}
		retry.reset()
		index = consulsource.NextIndex(index, meta.LastIndex)
		var added, removed []string
		d.mu.Lock()
		for name := range services {
			if !d.listed[name] {
				d.listed[name] = true
				added = append(added, name)
			}
		}
		for name := range d.listed {
			if _, ok := services[name]; !ok {
				delete(d.listed, name)
				delete(d.nodes, name)
				removed = append(removed, name)
			}
		}
		d.mu.Unlock()
		for _, name := range removed {
			d.w.set(serviceKey{d.dc, name}, nil)
		}
		d.refresh(ctx, added)
	}
}

func (d *datacenter) watchChecks(ctx context.Context) {
	var index uint64
	retry := newBackoff()
	for ctx.Err() == nil {
		q := (&consulapi.QueryOptions{Datacenter: d.dc, WaitIndex: index, WaitTime: d.w.wait()}).WithContext(ctx)
		var checks []checkEntry
		meta, err := d.w.Client.Raw().Query("/v1/health/state/"+consulapi.HealthAny, &checks, q)
		if err != nil {
			d.w.failed(ctx, retry, "health checks", d.dc, err)
			continue
		}
		retry.reset()
		if meta.LastIndex == index {
			continue // the wait ran out with nothing new
		}
		index = consulsource.NextIndex(index, meta.LastIndex)
		d.refresh(ctx, d.changedServices(checks))
	}
}

// changedServices records the checks' states and returns the services a
// change concerns: a service check's own, every service on a node whose
// node check changed.
func (d *datacenter) changedServices(checks []checkEntry) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := make(map[string]checkState, len(checks))
	for _, c := range checks {
		now[c.Node+"/"+c.CheckID] = checkState{node: c.Node, service: c.ServiceName, status: c.Status}
	}
	changed, changedNodes := map[string]bool{}, map[string]bool{}
	mark := func(c checkState) {
		if c.service == "" {
			changedNodes[c.node] = true
		} else {
			changed[c.service] = true
		}
	}
	for key, c := range now {
		if d.checks[key] != c {
			mark(c)
		}
	}
	for key, c := range d.checks {
		if _, ok := now[key]; !ok {
			mark(c)
		}
	}
	d.checks = now
	for svc, nodes := range d.nodes {
		if slices.ContainsFunc(nodes, func(n string) bool { return changedNodes[n] }) {
			changed[svc] = true
		}
	}
	out := make([]string, 0, len(changed))
	for svc := range changed {
		if d.listed[svc] {
			out = append(out, svc)
		}
	}
	sort.Strings(out)
	return out
}

// checkEntry is what the watch reads of each health check: of the many
// fields Consul sends, decoding only these keeps a thousand services'
// checks cheap to read after every change.
type checkEntry struct {
	Node, CheckID, ServiceName, Status string
}

// checkState is what a health check is about, and its status.
type checkState struct{ node, service, status string }

// refresh reads the passing instances of services, a few at a time.
func (d *datacenter) refresh(ctx context.Context, services []string) {
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, name := range services {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.read(ctx, name)
		}()
	}
	wg.Wait()
}

// read reads one service's passing instances, retrying until it answers
// or ctx ends.
func (d *datacenter) read(ctx context.Context, name string) {
	retry := newBackoff()
	for ctx.Err() == nil {
		q := (&consulapi.QueryOptions{Datacenter: d.dc}).WithContext(ctx)
		entries, _, err := d.w.Client.Health().Service(name, "", true, q)
		if err != nil {
			d.w.failed(ctx, retry, "health of "+name, d.dc, err)
			continue
		}
		d.mu.Lock()
		listed := d.listed[name]
		if listed {
			d.nodes[name] = nodesOf(entries)
		}
		d.mu.Unlock()
		if listed {
			d.w.set(serviceKey{d.dc, name}, service(d.dc, name, entries))
		}
		return
	}
}

func nodesOf(entries []*consulapi.ServiceEntry) []string {
	var out []string
	for _, e := range entries {
		if !slices.Contains(out, e.Node.Node) {
			out = append(out, e.Node.Node)
		}
	}
	return out
}

// service is a service's passing instances, sorted.
func service(dc, name string, entries []*consulapi.ServiceEntry) *api.ConsulService {
	s := &api.ConsulService{Datacenter: dc, Name: name}
	tags := map[string]bool{}
	for _, e := range entries {
		addr := e.Service.Address
		if addr == "" {
			addr = e.Node.Address
		}
		s.Instances = append(s.Instances, api.ConsulInstance{Address: addr, Port: uint32(e.Service.Port), Tags: e.Service.Tags})
		for _, t := range e.Service.Tags {
			tags[t] = true
		}
	}
	sort.Slice(s.Instances, func(i, j int) bool {
		a, b := s.Instances[i], s.Instances[j]
		return a.Address < b.Address || a.Address == b.Address && a.Port < b.Port
	})
	for t := range tags {
		s.Tags = append(s.Tags, t)
	}
	sort.Strings(s.Tags)
	return s
}

// set records a service (nil: gone) and notifies of a change: a check
// that changes between failing states, or an instance registered failing,
// changes no passing instance, and nothing.
func (w *Watcher) set(k serviceKey, s *api.ConsulService) {
	w.mu.Lock()
	old, had := w.services[k]
	switch {
	case s == nil && !had, s != nil && had && reflect.DeepEqual(old, *s):
		w.mu.Unlock()
		return
	case s == nil:
		delete(w.services, k)
	default:
		w.services[k] = *s
	}
	w.mu.Unlock()
	w.notify()
}

func (w *Watcher) failed(ctx context.Context, b *backoff, what, dc string, err error) {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return
	}
	d := b.next()
	w.Log.Warn("consul query failed", "query", what, "datacenter", dc, "err", err, "retry-in", d)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// backoff doubles from 100 ms to 10 s.
type backoff struct{ d time.Duration }

func newBackoff() *backoff { return &backoff{} }
func (b *backoff) reset()  { b.d = 0 }
func (b *backoff) next() time.Duration {
	b.d = min(max(2*b.d, 100*time.Millisecond), 10*time.Second)
	return b.d
}
