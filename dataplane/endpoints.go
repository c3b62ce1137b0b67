package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
)

// endpoint is one upstream host.
type endpoint struct {
	addr     string // ip:port, the dial address
	hostname string // used by auto_host_rewrite
	weight   uint32
}

// lbEndpoint is an endpoint as configured: a host that may still need DNS
// resolution (STRICT_DNS), with its load-balancing weight.
type lbEndpoint struct {
	host     string
	port     uint32
	hostname string
	weight   uint32
}

// maxSchedule bounds the precomputed weighted round-robin schedule.
const maxSchedule = 4096

// endpointSet is an immutable set of endpoints, as configured (EDS, DNS or
// inline); each cluster using it balances over its healthy ones.
type endpointSet struct {
	eps []endpoint
}

// smoothSchedule computes nginx's smooth weighted round-robin order for one
// full cycle: picks are interleaved rather than bunched per host.
func smoothSchedule(weights []uint32) []uint32 {
	g := uint64(0)
	for _, w := range weights {
		g = gcd(g, uint64(w))
	}
	ws := make([]int64, len(weights))
	var total int64
	for i, w := range weights {
		ws[i] = int64(uint64(w) / g)
		total += ws[i]
	}
	if total > maxSchedule && total > int64(len(weights)) {
		// Scale down, keeping every endpoint in the cycle.
		scaled := int64(0)
		for i := range ws {
			ws[i] = max(1, ws[i]*maxSchedule/total)
			scaled += ws[i]
		}
		total = scaled
	}
	current := make([]int64, len(ws))
	seq := make([]uint32, total)
	for i := range seq {
		best := 0
		for j, w := range ws {
			current[j] += w
			if current[j] > current[best] {
				best = j
			}
		}
		current[best] -= total
		seq[i] = uint32(best)
	}
	return seq
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// compileLoadAssignment validates a ClusterLoadAssignment and returns the
// endpoints of its best priority that are not marked unhealthy or draining
// (with no health checking, that is the level Envoy routes to). EDS and STATIC
// endpoints must be IP addresses; STRICT_DNS ones may be host names.
func compileLoadAssignment(cla *endpointv3.ClusterLoadAssignment, allowNames bool) ([]lbEndpoint, error) {
	if err := onlyFields(cla, "cluster_name", "endpoints", "policy"); err != nil {
		return nil, err
	}
	if p := cla.GetPolicy(); p != nil {
		if err := onlyFields(p, "overprovisioning_factor"); err != nil {
			return nil, err
		}
	}
	var out []lbEndpoint
	best := uint32(0)
	for _, loc := range cla.GetEndpoints() {
		if err := onlyFields(loc, "lb_endpoints", "locality", "load_balancing_weight", "priority"); err != nil {
			return nil, err
		}
		for _, lbe := range loc.GetLbEndpoints() {
			e, usable, err := compileLbEndpoint(lbe, allowNames)
			if err != nil {
				return nil, err
			}
			switch {
			case !usable:
			case len(out) == 0 || loc.GetPriority() < best:
				best, out = loc.GetPriority(), []lbEndpoint{e}
			case loc.GetPriority() == best:
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func compileLbEndpoint(lbe *endpointv3.LbEndpoint, allowNames bool) (lbEndpoint, bool, error) {
	if err := onlyFields(lbe, "endpoint", "load_balancing_weight", "health_status", "metadata"); err != nil {
		return lbEndpoint{}, false, err
	}
	ep := lbe.GetEndpoint()
	if ep == nil {
		return lbEndpoint{}, false, errors.New("lb_endpoint without endpoint")
	}
	if err := onlyFields(ep, "address", "hostname", "health_check_config"); err != nil {
		return lbEndpoint{}, false, err
	}
	host, port, err := socketAddress(ep.GetAddress())
	if err != nil {
		return lbEndpoint{}, false, err
	}
	if _, perr := netip.ParseAddr(host); perr != nil && !allowNames {
		return lbEndpoint{}, false, fmt.Errorf("endpoint address %q is not an IP address", host)
	}
	e := lbEndpoint{host: host, port: port, hostname: ep.GetHostname(), weight: 1}
	if w := lbe.GetLoadBalancingWeight(); w != nil {
		if w.GetValue() == 0 {
			return lbEndpoint{}, false, fmt.Errorf("endpoint %s: load_balancing_weight must be positive", host)
		}
		e.weight = w.GetValue()
	}
	switch lbe.GetHealthStatus() {
	case core.HealthStatus_UNHEALTHY, core.HealthStatus_DRAINING, core.HealthStatus_TIMEOUT:
		return e, false, nil
	}
	return e, true, nil
}

// socketAddress extracts host and port from an Address that must be a TCP
// socket address.
func socketAddress(a *core.Address) (string, uint32, error) {
	sa := a.GetSocketAddress()
	if sa == nil {
		return "", 0, errors.New("address must be a socket_address")
	}
	if err := onlyFields(sa, "address", "port_value", "protocol", "ipv4_compat"); err != nil {
		return "", 0, err
	}
	if sa.GetProtocol() != core.SocketAddress_TCP {
		return "", 0, fmt.Errorf("address %s: only TCP is supported", sa.GetAddress())
	}
	if sa.GetAddress() == "" {
		return "", 0, errors.New("socket_address without address")
	}
	return sa.GetAddress(), sa.GetPortValue(), nil
}

// staticEndpoints turns IP endpoints into a set; the endpoint's hostname (for
// auto_host_rewrite) is the configured hostname.
func staticEndpoints(les []lbEndpoint) *endpointSet {
	eps := make([]endpoint, len(les))
	for i, e := range les {
		eps[i] = endpoint{addr: net.JoinHostPort(e.host, strconv.FormatUint(uint64(e.port), 10)), hostname: e.hostname, weight: e.weight}
	}
	return &endpointSet{eps: eps}
}
