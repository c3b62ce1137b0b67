// Package consul is upstream discovery in Consul: every service of the
// catalog, per datacenter, with its instances that pass their health
// checks, followed with Consul's blocking queries.
package consul

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/gluon-gateway/gluon/api"
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
// (sorted by datacenter and name) after each change; changes that come
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
		go w.watchCatalog(ctx, dc)
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
		return out[i].Datacenter < out[j].Datacenter || out[i].Datacenter == out[j].Datacenter && out[i].Name < out[j].Name
	})
	return out
}

func (w *Watcher) wait() time.Duration {
	if w.Wait > 0 {
		return w.Wait
	}
	return 5 * time.Minute
}

// watchCatalog follows a datacenter's service list, and runs a health
// watch for each service while it is listed.
func (w *Watcher) watchCatalog(ctx context.Context, dc string) {
	running := map[string]context.CancelFunc{}
	defer func() {
		for _, cancel := range running {
			cancel()
		}
	}()
	var index uint64
	retry := newBackoff()
	for ctx.Err() == nil {
		q := (&consulapi.QueryOptions{Datacenter: dc, WaitIndex: index, WaitTime: w.wait()}).WithContext(ctx)
		services, meta, err := w.Client.Catalog().Services(q)
		if err != nil {
			w.failed(ctx, retry, "catalog", dc, err)
			continue
		}
		retry.reset()
		index = nextIndex(index, meta.LastIndex)
		for name := range services {
			if _, ok := running[name]; !ok {
				sctx, cancel := context.WithCancel(ctx)
				running[name] = cancel
				go w.watchHealth(sctx, dc, name)
			}
		}
		for name, cancel := range running {
			if _, ok := services[name]; !ok {
				cancel()
				delete(running, name)
				w.set(serviceKey{dc, name}, nil)
			}
		}
	}
}

// watchHealth follows one service's passing instances.
func (w *Watcher) watchHealth(ctx context.Context, dc, name string) {
	var index uint64
	retry := newBackoff()
	for ctx.Err() == nil {
		q := (&consulapi.QueryOptions{Datacenter: dc, WaitIndex: index, WaitTime: w.wait()}).WithContext(ctx)
		entries, meta, err := w.Client.Health().Service(name, "", true, q)
		if err != nil {
			w.failed(ctx, retry, "health of "+name, dc, err)
			continue
		}
		retry.reset()
		if meta.LastIndex == index {
			continue // the wait ran out with nothing new
		}
		index = nextIndex(index, meta.LastIndex)
		if ctx.Err() == nil {
			w.set(serviceKey{dc, name}, service(dc, name, entries))
		}
	}
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

// set records a service (nil: gone) and notifies.
func (w *Watcher) set(k serviceKey, s *api.ConsulService) {
	w.mu.Lock()
	if s == nil {
		delete(w.services, k)
	} else {
		w.services[k] = *s
	}
	w.mu.Unlock()
	w.notify()
}

// nextIndex is the index of the next blocking query: Consul's, reset when
// it goes backwards (as Consul's documentation asks).
func nextIndex(prev, last uint64) uint64 {
	if last < prev || last == 0 {
		return 0
	}
	return last
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
