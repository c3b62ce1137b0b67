package dataplane

import (
	"fmt"
	"math/rand/v2"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// outlierDetection is a compiled OutlierDetection: consecutive 5xx and
// consecutive gateway failures eject a host for baseEjection times the
// number of its ejections (capped at maxEjection). A zero threshold is off.
type outlierDetection struct {
	consecutive5xx, consecutiveGateway  uint32
	enforce5xx, enforceGateway          uint32 // percent of detections that eject
	interval, baseEjection, maxEjection time.Duration
	maxEjectionPercent                  uint32
}

func compileOutlierDetection(od *clusterv3.OutlierDetection) (*outlierDetection, error) {
	if od == nil {
		return nil, nil
	}
	if err := onlyFields(od, "consecutive_5xx", "consecutive_gateway_failure", "interval", "base_ejection_time",
		"max_ejection_percent", "enforcing_consecutive_5xx", "enforcing_consecutive_gateway_failure", "max_ejection_time"); err != nil {
		return nil, err
	}
	// Envoy's defaults; gateway failures are counted but not enforced.
	o := &outlierDetection{consecutive5xx: uintOr(od.GetConsecutive_5Xx(), 5), consecutiveGateway: uintOr(od.GetConsecutiveGatewayFailure(), 5),
		enforce5xx: uintOr(od.GetEnforcingConsecutive_5Xx(), 100), enforceGateway: uintOr(od.GetEnforcingConsecutiveGatewayFailure(), 0),
		maxEjectionPercent: uintOr(od.GetMaxEjectionPercent(), 10)}
	var err error
	for _, d := range []struct {
		name string
		in   *durationpb.Duration
		out  *time.Duration
		def  time.Duration
	}{{"interval", od.GetInterval(), &o.interval, 10 * time.Second}, {"base_ejection_time", od.GetBaseEjectionTime(), &o.baseEjection, 30 * time.Second},
		{"max_ejection_time", od.GetMaxEjectionTime(), &o.maxEjection, 300 * time.Second}} {
		*d.out = d.def
		if d.in == nil {
			continue
		}
		if *d.out, err = duration(d.in); err != nil || *d.out <= 0 {
			return nil, fmt.Errorf("%s must be positive: %v", d.name, d.in)
		}
	}
	if o.enforce5xx > 100 || o.enforceGateway > 100 || o.maxEjectionPercent > 100 {
		return nil, fmt.Errorf("enforcing and max_ejection_percent values are percentages (0-100)")
	}
	return o, nil
}

func uintOr(v *wrapperspb.UInt32Value, def uint32) uint32 {
	if v == nil {
		return def
	}
	return v.GetValue()
}

// observe counts an attempt's outcome against its host: status is the
// response's, or what the proxy answered for a failed attempt (503 for a
// connect failure or reset, 504 for a timeout), which counts as both a 5xx
// and a gateway failure, as in Envoy's default mode.
func (c *upstreamCluster) observe(h *host, status int) {
	od := c.outlier
	if od == nil {
		return
	}
	if status < 500 {
		// Only write when there is something to reset: the counters share
		// a cache line across every request to the host.
		if h.consecutive5xx.Load() != 0 || h.consecutiveGateway.Load() != 0 {
			h.consecutive5xx.Store(0)
			h.consecutiveGateway.Store(0)
		}
		return
	}
	if n := h.consecutive5xx.Add(1); od.consecutive5xx > 0 && n >= od.consecutive5xx {
		c.eject(h, od.enforce5xx)
	}
	if status != 502 && status != 503 && status != 504 {
		h.consecutiveGateway.Store(0)
		return
	}
	if n := h.consecutiveGateway.Add(1); od.consecutiveGateway > 0 && n >= od.consecutiveGateway {
		c.eject(h, od.enforceGateway)
	}
}

// eject takes a host out of rotation, unless the detection is not enforced
// this time or maxEjectionPercent of the hosts are out already (one may
// always be).
func (c *upstreamCluster) eject(h *host, enforcePercent uint32) {
	h.consecutive5xx.Store(0)
	h.consecutiveGateway.Store(0)
	if enforcePercent == 0 || rand.Uint32N(100) >= enforcePercent {
		return
	}
	od, hh := c.outlier, &c.health
	hh.mu.Lock()
	defer hh.mu.Unlock()
	if h.ejected || hh.byAddr[h.addr] != h {
		return
	}
	out := 0
	for _, o := range hh.hosts {
		if o.ejected {
			out++
		}
	}
	if out > 0 && uint64(out+1)*100 > uint64(od.maxEjectionPercent)*uint64(len(hh.hosts)) {
		return
	}
	now := time.Now()
	if !h.lastChange.IsZero() { // a host that behaved since is forgiven an ejection per interval
		h.ejections = max(0, h.ejections-int(now.Sub(h.lastChange)/od.interval))
	}
	h.ejections++
	d := min(od.baseEjection*time.Duration(h.ejections), max(od.baseEjection, od.maxEjection))
	h.ejected, h.ejectedUntil, h.lastChange = true, now.Add(d), now
	c.rebuildLocked()
	time.AfterFunc(d, func() { c.unEject(h) })
}

func (c *upstreamCluster) unEject(h *host) {
	hh := &c.health
	hh.mu.Lock()
	defer hh.mu.Unlock()
	if !h.ejected {
		return
	}
	h.ejected, h.lastChange = false, time.Now()
	if hh.byAddr[h.addr] == h {
		c.rebuildLocked()
	}
}
