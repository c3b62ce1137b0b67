package dataplane

import (
	"fmt"
	"net/http"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

func testHosts(n int) []*host {
	out := make([]*host, n)
	for i := range out {
		out[i] = &host{endpoint: endpoint{addr: fmt.Sprintf("10.0.0.%d:80", i+1), weight: 1}}
	}
	return out
}

// A hashing balancer sends a key to one host, spreads keys evenly, and
// removing a host moves its keys and few others.
func TestHashingBalancersAreConsistent(t *testing.T) {
	for _, policy := range []clusterv3.Cluster_LbPolicy{clusterv3.Cluster_RING_HASH, clusterv3.Cluster_MAGLEV} {
		t.Run(policy.String(), func(t *testing.T) {
			lb := lbConfig{policy: policy, minRing: defaultMinRingSize, maxRing: defaultMaxRingSize}
			hosts := testHosts(4)
			full := lb.build(hosts)
			without := lb.build(hosts[1:])
			moved, share := 0, map[string]int{}
			const keys = 2000
			for k := range keys {
				h := uint64(k) * 0x9e3779b97f4a7c15
				a, b := full.pick(h, true), without.pick(h, true)
				if a != full.pick(h, true) {
					t.Fatal("the same hash picked two hosts")
				}
				share[a.addr]++
				if a != hosts[0] && a != b {
					moved++
				}
				if b == hosts[0] {
					t.Fatal("a removed host was picked")
				}
			}
			// Both move some keys among the remaining hosts: a ring gives
			// each host more points when there are fewer (as Envoy's does),
			// Maglev refills the table. Few, not most.
			if moved > keys/5 {
				t.Errorf("%d of %d keys of remaining hosts moved", moved, keys)
			}
			for addr, n := range share {
				if n < keys/8 {
					t.Errorf("host %s got %d of %d keys: uneven", addr, n, keys)
				}
			}
		})
	}
}

func TestLeastRequestAvoidsBusyHosts(t *testing.T) {
	hosts := testHosts(2)
	hosts[0].active.Store(10)
	b := (&lbConfig{policy: clusterv3.Cluster_LEAST_REQUEST, choiceCount: 2}).build(hosts)
	busy := 0
	for range 1000 {
		if b.pick(0, false) == hosts[0] {
			busy++
		}
	}
	// Only draws of the busy host twice pick it: about a quarter.
	if busy > 350 {
		t.Errorf("the busy host was picked %d times of 1000", busy)
	}
}

func TestRequestHash(t *testing.T) {
	policies, err := compileHashPolicies([]*routev3.RouteAction_HashPolicy{
		{PolicySpecifier: &routev3.RouteAction_HashPolicy_Cookie_{Cookie: &routev3.RouteAction_HashPolicy_Cookie{
			Name: "session", Ttl: durationpb.New(3600e9), Path: "/"}}, Terminal: true},
		{PolicySpecifier: &routev3.RouteAction_HashPolicy_Header_{Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: "x-user"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := func(cookie string) *http.Request {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = "192.0.2.1:5000"
		r.Header.Set("X-User", "ann")
		if cookie != "" {
			r.Header.Set("Cookie", "session="+cookie)
		}
		return r
	}
	h1, ok1, set1 := requestHash(policies, req("abc"))
	h2, _, _ := requestHash(policies, req("abc"))
	h3, _, _ := requestHash(policies, req("xyz"))
	if !ok1 || set1 != "" || h1 != h2 || h1 == h3 {
		t.Fatalf("cookie hashes: %x %x %x (set %q)", h1, h2, h3, set1)
	}
	_, ok, set := requestHash(policies, req(""))
	if !ok || set == "" {
		t.Fatalf("no cookie and a TTL: hashed %v, Set-Cookie %q", ok, set)
	}
	if c, err := http.ParseSetCookie(set); err != nil || c.Name != "session" || c.MaxAge != 3600 || c.Path != "/" {
		t.Fatalf("Set-Cookie %q: %v", set, err)
	}
}

func TestOutlierEjectsAndReturns(t *testing.T) {
	c := &upstreamCluster{name: "c", lb: lbConfig{policy: clusterv3.Cluster_ROUND_ROBIN, panicPercent: defaultPanicPercent},
		outlier: &outlierDetection{consecutive5xx: 3, enforce5xx: 100, interval: 1e9, baseEjection: 50e6, maxEjection: 300e9, maxEjectionPercent: 10}}
	c.setEndpoints(&endpointSet{eps: []endpoint{{addr: "a:1", weight: 1}, {addr: "b:1", weight: 1}, {addr: "c:1", weight: 1}}})
	bad := c.health.byAddr["a:1"]
	c.observe(bad, 500)
	c.observe(bad, 500)
	c.observe(bad, 200) // a success resets the count
	for range 3 {
		c.observe(bad, 503)
	}
	if !bad.ejected {
		t.Fatal("three 5xx in a row did not eject")
	}
	for range 30 {
		if c.pick(0, false) == bad {
			t.Fatal("an ejected host was picked")
		}
	}
	// max_ejection_percent 10 of 3 hosts: the first ejection is always
	// allowed, a second is not.
	other := c.health.byAddr["b:1"]
	for range 3 {
		c.observe(other, 500)
	}
	if other.ejected {
		t.Fatal("a second host was ejected past max_ejection_percent")
	}
	report := c.healthReport()
	if report.Endpoints[0].Health != "ejected" || report.Endpoints[0].EjectedUntil == nil {
		t.Fatalf("report %+v", report)
	}
	waitFor(t, "the ejection to end", func() bool { c.health.mu.Lock(); defer c.health.mu.Unlock(); return !bad.ejected })
}

func TestHealthCheckThresholdsAndPanic(t *testing.T) {
	c := &upstreamCluster{name: "c", lb: lbConfig{policy: clusterv3.Cluster_ROUND_ROBIN, panicPercent: defaultPanicPercent},
		healthCheck: &healthCheck{unhealthy: 2, healthy: 1}}
	c.setEndpoints(&endpointSet{eps: []endpoint{{addr: "a:1", weight: 1}, {addr: "b:1", weight: 1}, {addr: "c:1", weight: 1}}})
	a, b := c.health.byAddr["a:1"], c.health.byAddr["b:1"]
	if c.recordCheck(a, false) || a.hcFailed {
		t.Fatal("one failure of two took the host out")
	}
	if !c.recordCheck(a, false) || !a.hcFailed {
		t.Fatal("two failures in a row left the host in")
	}
	c.rebuildLocked()
	if r := c.health.now.Load(); r.panic {
		t.Fatal("2 of 3 healthy is not panic")
	}
	c.recordCheck(b, false)
	c.recordCheck(b, false)
	c.rebuildLocked()
	// 1 of 3 healthy is under 50%: all hosts take traffic again.
	seen := map[*host]bool{}
	for range 30 {
		seen[c.pick(0, false)] = true
	}
	if !c.health.now.Load().panic || !seen[a] {
		t.Fatal("under the panic threshold, unhealthy hosts got no traffic")
	}
	if !c.recordCheck(a, true) || a.hcFailed {
		t.Fatal("one pass (healthy threshold 1) did not bring the host back")
	}
	// An EDS update that keeps a host keeps its health.
	c.setEndpoints(&endpointSet{eps: []endpoint{{addr: "b:1", weight: 1}, {addr: "d:1", weight: 1}}})
	if !c.health.byAddr["b:1"].hcFailed {
		t.Fatal("an endpoint update forgot a host's health")
	}
}
