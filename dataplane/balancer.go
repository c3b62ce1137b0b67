package dataplane

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
)

// balancer picks one of a cluster's routable hosts for a request. hash is
// the request's hash and hashed says whether its route's hash policies
// produced one; only ring hash and maglev use it. Built anew, immutable,
// whenever the routable hosts change.
type balancer interface {
	pick(hash uint64, hashed bool) *host
}

// lbConfig is a cluster's compiled lb_policy and its settings.
type lbConfig struct {
	policy      clusterv3.Cluster_LbPolicy
	choiceCount int
	// minRing and maxRing bound a ring hash's entries.
	minRing, maxRing uint64
	// panicPercent: below this share of healthy hosts, all hosts are routable.
	panicPercent float64
}

// Envoy's defaults.
const (
	defaultChoiceCount  = 2
	defaultMinRingSize  = 1024
	defaultMaxRingSize  = 8 << 20
	defaultPanicPercent = 50
	// maglevTableSize is Envoy's default table size, a prime.
	maglevTableSize = 65537
)

// hashes reports whether the policy balances by the request's hash.
func (lb *lbConfig) hashes() bool {
	return lb.policy == clusterv3.Cluster_RING_HASH || lb.policy == clusterv3.Cluster_MAGLEV
}

func compileLoadBalancer(c *clusterv3.Cluster) (lbConfig, error) {
	lb := lbConfig{policy: c.GetLbPolicy(), choiceCount: defaultChoiceCount, minRing: defaultMinRingSize,
		maxRing: defaultMaxRingSize, panicPercent: defaultPanicPercent}
	switch lb.policy {
	case clusterv3.Cluster_ROUND_ROBIN, clusterv3.Cluster_RANDOM, clusterv3.Cluster_MAGLEV:
	case clusterv3.Cluster_LEAST_REQUEST:
		if cfg := c.GetLeastRequestLbConfig(); cfg != nil {
			if err := onlyFields(cfg, "choice_count"); err != nil {
				return lb, err
			}
			if n := cfg.GetChoiceCount(); n != nil {
				if n.GetValue() < 2 {
					return lb, fmt.Errorf("least_request_lb_config.choice_count must be at least 2")
				}
				lb.choiceCount = int(n.GetValue())
			}
		}
	case clusterv3.Cluster_RING_HASH:
		if err := lb.compileRing(c.GetRingHashLbConfig()); err != nil {
			return lb, fmt.Errorf("ring_hash_lb_config: %w", err)
		}
	default:
		return lb, fmt.Errorf("lb_policy %v is not supported", lb.policy)
	}
	if c.GetLbConfig() != nil && !lb.configFits(c) {
		return lb, fmt.Errorf("the lb config given does not belong to lb_policy %v", lb.policy)
	}
	if common := c.GetCommonLbConfig(); common != nil {
		if err := onlyFields(common, "healthy_panic_threshold"); err != nil {
			return lb, fmt.Errorf("common_lb_config: %w", err)
		}
		if t := common.GetHealthyPanicThreshold(); t != nil {
			if v := t.GetValue(); v >= 0 && v <= 100 {
				lb.panicPercent = v
			} else {
				return lb, fmt.Errorf("common_lb_config.healthy_panic_threshold %v is not a percentage", v)
			}
		}
	}
	return lb, nil
}

func (lb *lbConfig) configFits(c *clusterv3.Cluster) bool {
	switch c.GetLbConfig().(type) {
	case *clusterv3.Cluster_LeastRequestLbConfig_:
		return lb.policy == clusterv3.Cluster_LEAST_REQUEST
	case *clusterv3.Cluster_RingHashLbConfig_:
		return lb.policy == clusterv3.Cluster_RING_HASH
	case *clusterv3.Cluster_MaglevLbConfig_:
		return lb.policy == clusterv3.Cluster_MAGLEV && onlyFields(c.GetMaglevLbConfig()) == nil
	}
	return false
}

func (lb *lbConfig) compileRing(cfg *clusterv3.Cluster_RingHashLbConfig) error {
	if cfg == nil {
		return nil
	}
	if err := onlyFields(cfg, "minimum_ring_size", "maximum_ring_size", "hash_function"); err != nil {
		return err
	}
	if cfg.GetHashFunction() != clusterv3.Cluster_RingHashLbConfig_XX_HASH {
		return fmt.Errorf("hash_function %v is not supported (XX_HASH)", cfg.GetHashFunction())
	}
	if v := cfg.GetMinimumRingSize(); v != nil {
		lb.minRing = v.GetValue()
	}
	if v := cfg.GetMaximumRingSize(); v != nil {
		lb.maxRing = v.GetValue()
	}
	if lb.minRing < 1 || lb.minRing > lb.maxRing || lb.maxRing > defaultMaxRingSize {
		return fmt.Errorf("ring sizes %d..%d are out of bounds (1..%d)", lb.minRing, lb.maxRing, defaultMaxRingSize)
	}
	return nil
}

// build makes the balancer over hosts (nil when there is none).
func (lb *lbConfig) build(hosts []*host) balancer {
	if len(hosts) == 0 {
		return nil
	}
	switch lb.policy {
	case clusterv3.Cluster_RANDOM:
		return &randomBalancer{hosts: hosts, schedule: weightedSchedule(hosts)}
	case clusterv3.Cluster_LEAST_REQUEST:
		return &leastRequestBalancer{hosts: hosts, choices: lb.choiceCount}
	case clusterv3.Cluster_RING_HASH:
		return newRing(hosts, lb.minRing, lb.maxRing)
	case clusterv3.Cluster_MAGLEV:
		return newMaglev(hosts)
	}
	return &roundRobinBalancer{hosts: hosts, schedule: weightedSchedule(hosts)}
}

// weightedSchedule is the smooth weighted round-robin order; nil when all
// weights are equal.
func weightedSchedule(hosts []*host) []uint32 {
	weights := make([]uint32, len(hosts))
	uneven := false
	for i, h := range hosts {
		weights[i] = h.weight
		uneven = uneven || h.weight != hosts[0].weight
	}
	if !uneven {
		return nil
	}
	return smoothSchedule(weights)
}

// roundRobinBalancer picks with one atomic increment.
type roundRobinBalancer struct {
	hosts    []*host
	schedule []uint32
	next     atomic.Uint64
}

func (b *roundRobinBalancer) pick(uint64, bool) *host {
	n := b.next.Add(1) - 1
	if b.schedule != nil {
		return b.hosts[b.schedule[n%uint64(len(b.schedule))]]
	}
	return b.hosts[n%uint64(len(b.hosts))]
}

type randomBalancer struct {
	hosts    []*host
	schedule []uint32
}

func (b *randomBalancer) pick(uint64, bool) *host {
	if b.schedule != nil {
		return b.hosts[b.schedule[rand.IntN(len(b.schedule))]]
	}
	return b.hosts[rand.IntN(len(b.hosts))]
}

// leastRequestBalancer is Envoy's power of choices: of choices hosts drawn
// at random, the one with the fewest requests in flight.
type leastRequestBalancer struct {
	hosts   []*host
	choices int
}

func (b *leastRequestBalancer) pick(uint64, bool) *host {
	best := b.hosts[rand.IntN(len(b.hosts))]
	for range b.choices - 1 {
		if h := b.hosts[rand.IntN(len(b.hosts))]; h.active.Load() < best.active.Load() {
			best = h
		}
	}
	return best
}

// ringBalancer is Envoy's ketama ring: each host owns points hashed from
// its address, in proportion to its weight; a request goes to the first
// point at or after its hash. Removing a host moves only its own keys.
type ringBalancer struct {
	points []ringPoint
}

type ringPoint struct {
	hash uint64
	host *host
}

func newRing(hosts []*host, minSize, maxSize uint64) *ringBalancer {
	total := uint64(0)
	for _, h := range hosts {
		total += uint64(h.weight)
	}
	size := min(max(minSize, uint64(len(hosts))), maxSize)
	r := &ringBalancer{points: make([]ringPoint, 0, size+uint64(len(hosts)))}
	for _, h := range hosts {
		n := max(1, (size*uint64(h.weight)+total-1)/total)
		for i := range n {
			key := h.addr + "_" + strconv.FormatUint(i, 10)
			r.points = append(r.points, ringPoint{hash: xxhash.Sum64String(key), host: h})
		}
	}
	slices.SortFunc(r.points, func(a, b ringPoint) int {
		if a.hash != b.hash {
			if a.hash < b.hash {
				return -1
			}
			return 1
		}
		return compareAddr(a.host, b.host)
	})
	return r
}

func compareAddr(a, b *host) int {
	switch {
	case a.addr < b.addr:
		return -1
	case a.addr > b.addr:
		return 1
	}
	return 0
}

func (r *ringBalancer) pick(hash uint64, hashed bool) *host {
	if !hashed {
		hash = rand.Uint64()
	}
	i, _ := slices.BinarySearchFunc(r.points, hash, func(p ringPoint, h uint64) int {
		if p.hash < h {
			return -1
		}
		if p.hash > h {
			return 1
		}
		return 0
	})
	if i == len(r.points) {
		i = 0
	}
	return r.points[i].host
}

// maglevBalancer is Maglev's lookup table: each host fills slots along its
// own permutation of the table, in turns weighted by its weight, so keys
// spread evenly and few move when a host leaves.
type maglevBalancer struct {
	table []*host
}

func newMaglev(hosts []*host) *maglevBalancer {
	sorted := slices.Clone(hosts)
	slices.SortFunc(sorted, compareAddr) // the table must not depend on the order hosts came in
	n := len(sorted)
	offset, skip, next := make([]uint64, n), make([]uint64, n), make([]uint64, n)
	maxWeight := uint32(0)
	for i, h := range sorted {
		offset[i] = xxhash.Sum64String(h.addr) % maglevTableSize
		skip[i] = xxhash.Sum64String(h.addr+"#skip")%(maglevTableSize-1) + 1
		maxWeight = max(maxWeight, h.weight)
	}
	table := make([]*host, maglevTableSize)
	credit := make([]uint64, n)
	filled := 0
	for round := 0; filled < maglevTableSize; round++ {
		for i, h := range sorted {
			// A host of half the top weight takes a slot every other turn.
			credit[i] += uint64(h.weight)
			if credit[i] < uint64(maxWeight) {
				continue
			}
			credit[i] -= uint64(maxWeight)
			for {
				slot := (offset[i] + next[i]*skip[i]) % maglevTableSize
				next[i]++
				if table[slot] == nil {
					table[slot] = h
					filled++
					break
				}
			}
			if filled == maglevTableSize {
				break
			}
		}
	}
	return &maglevBalancer{table: table}
}

func (m *maglevBalancer) pick(hash uint64, hashed bool) *host {
	if !hashed {
		hash = rand.Uint64()
	}
	return m.table[hash%maglevTableSize]
}
