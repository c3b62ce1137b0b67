package dataplane

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
)

// host is an endpoint as its cluster balances to it, with what is known of
// its health. A cluster keeps one host per address across endpoint
// updates, so health outlives an EDS push that keeps the endpoint.
type host struct {
	endpoint
	// active counts requests in flight, for least-request balancing.
	active atomic.Int64
	// Outlier detection counts errors in a row on the request path.
	consecutive5xx, consecutiveGateway atomic.Uint32

	// Guarded by the cluster's healthMu.
	hcFailed     bool // failing active health checks
	hcStreak     int  // checks in a row that disagree with hcFailed
	ejected      bool // ejected by outlier detection
	ejectedUntil time.Time
	ejections    int // times ejected, decaying while healthy
	lastChange   time.Time
}

// routable is what a cluster balances over now: the healthy hosts or, in
// panic (too few healthy), all of them.
type routable struct {
	balancer balancer
	panic    bool
}

// hostHealth is a cluster's hosts and their health; every change rebuilds
// the balancer, so picking never looks at health.
type hostHealth struct {
	mu     sync.Mutex
	hosts  []*host
	byAddr map[string]*host
	now    atomic.Pointer[routable]
}

// pick returns the host for a request, nil when the cluster has none.
func (c *upstreamCluster) pick(hash uint64, hashed bool) *host {
	r := c.health.now.Load()
	if r == nil || r.balancer == nil {
		return nil
	}
	return r.balancer.pick(hash, hashed)
}

// begin and end bracket an attempt on a host, counted for least-request
// balancing only: other policies do not pay for the shared counter.
func (c *upstreamCluster) begin(h *host) {
	if c.lb.policy == clusterv3.Cluster_LEAST_REQUEST {
		h.active.Add(1)
	}
}

func (c *upstreamCluster) end(h *host) {
	if c.lb.policy == clusterv3.Cluster_LEAST_REQUEST {
		h.active.Add(-1)
	}
}

// setEndpoints makes the set the cluster's endpoints, keeping the health of
// the hosts it already had.
func (c *upstreamCluster) setEndpoints(s *endpointSet) {
	c.endpoints.Store(s)
	hh := &c.health
	hh.mu.Lock()
	next := make(map[string]*host, len(s.eps))
	hosts := make([]*host, 0, len(s.eps))
	for _, ep := range s.eps {
		h := hh.byAddr[ep.addr]
		if h == nil || h.endpoint != ep {
			old := h
			h = &host{endpoint: ep}
			if old != nil { // a new weight or hostname: same health
				h.hcFailed, h.ejected, h.ejectedUntil, h.ejections = old.hcFailed, old.ejected, old.ejectedUntil, old.ejections
			}
		}
		if next[ep.addr] == nil {
			next[ep.addr] = h
			hosts = append(hosts, h)
		}
	}
	hh.hosts, hh.byAddr = hosts, next
	c.rebuildLocked()
	hh.mu.Unlock()
	c.warm.Store(true)
}

// rebuildLocked rebalances over the hosts that are healthy, or over all of
// them when fewer than the panic threshold are, as Envoy does. healthMu is held.
func (c *upstreamCluster) rebuildLocked() {
	all := c.health.hosts
	healthy := slices.DeleteFunc(slices.Clone(all), func(h *host) bool { return h.hcFailed || h.ejected })
	r := &routable{}
	if float64(len(healthy))*100 < c.lb.panicPercent*float64(len(all)) {
		healthy, r.panic = all, true
	}
	r.balancer = c.lb.build(healthy)
	c.health.now.Store(r)
}

// hostsSnapshot is the current hosts, for health checking.
func (c *upstreamCluster) hostsSnapshot() []*host {
	c.health.mu.Lock()
	defer c.health.mu.Unlock()
	return slices.Clone(c.health.hosts)
}

// EndpointHealth is one endpoint of a cluster as /statusz shows it.
type EndpointHealth struct {
	Address string `json:"address"`
	// Health is healthy, unhealthy (failing active health checks) or
	// ejected (by outlier detection, until EjectedUntil).
	Health       string     `json:"health"`
	EjectedUntil *time.Time `json:"ejectedUntil,omitempty"`
	Ejections    int        `json:"ejections,omitempty"`
}

// ClusterHealth is a cluster's endpoints and whether it is in panic (too
// few healthy endpoints: all take traffic).
type ClusterHealth struct {
	Cluster   string           `json:"cluster"`
	Panic     bool             `json:"panic,omitempty"`
	Endpoints []EndpointHealth `json:"endpoints"`
}

func (c *upstreamCluster) healthReport() ClusterHealth {
	hh := &c.health
	hh.mu.Lock()
	defer hh.mu.Unlock()
	out := ClusterHealth{Cluster: c.name, Endpoints: []EndpointHealth{}}
	if r := hh.now.Load(); r != nil {
		out.Panic = r.panic
	}
	for _, h := range hh.hosts {
		e := EndpointHealth{Address: h.addr, Health: "healthy", Ejections: h.ejections}
		switch {
		case h.ejected:
			until := h.ejectedUntil
			e.Health, e.EjectedUntil = "ejected", &until
		case h.hcFailed:
			e.Health = "unhealthy"
		}
		out.Endpoints = append(out.Endpoints, e)
	}
	return out
}
