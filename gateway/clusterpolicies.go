package gateway

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// clusterPolicies copies an upstream's resilience settings (breakers,
// outlier detection, health checks, balancing) onto its cluster.
func clusterPolicies(c *ir.Cluster, s *api.UpstreamSpec) {
	if cb := s.CircuitBreakers; cb != nil {
		c.CircuitBreakers = &ir.CircuitBreakers{MaxConnections: cb.MaxConnections, MaxPendingRequests: cb.MaxPendingRequests,
			MaxRequests: cb.MaxRequests, MaxRetries: cb.MaxRetries}
		if b := cb.RetryBudget; b != nil {
			c.CircuitBreakers.RetryBudget = &ir.RetryBudget{BudgetPercent: b.BudgetPercent, MinRetryConcurrency: b.MinRetryConcurrency}
		}
	}
	if od := s.OutlierDetection; od != nil {
		c.OutlierDetection = &ir.OutlierDetection{Consecutive5xx: od.Consecutive5xx, ConsecutiveGatewayFailure: od.ConsecutiveGatewayFailure,
			Interval: optDuration(od.Interval), BaseEjectionTime: optDuration(od.BaseEjectionTime), MaxEjectionPercent: od.MaxEjectionPercent}
	}
	for _, hc := range s.HealthChecks {
		c.HealthChecks = append(c.HealthChecks, healthCheck(hc))
	}
	if lb := s.LoadBalancerConfig; lb != nil {
		c.LoadBalancer = loadBalancer(lb)
	}
	c.HTTP2 = s.UseHTTP2
}

func healthCheck(hc api.HealthCheck) ir.HealthCheck {
	out := ir.HealthCheck{Timeout: ir.Duration(hc.Timeout.Duration), Interval: ir.Duration(hc.Interval.Duration),
		UnhealthyThreshold: hc.UnhealthyThreshold, HealthyThreshold: hc.HealthyThreshold}
	if h := hc.HTTPHealthCheck; h != nil {
		out.HTTP = &ir.HTTPHealthCheck{Path: h.Path, Host: h.Host}
		for _, r := range h.ExpectedStatuses {
			out.HTTP.ExpectedStatuses = append(out.HTTP.ExpectedStatuses, ir.StatusRange{Start: r.Start, End: r.End})
		}
	}
	return out
}

func loadBalancer(lb *api.LoadBalancerConfig) *ir.LoadBalancer {
	out := &ir.LoadBalancer{Policy: ir.LBRoundRobin, HealthyPanicThreshold: lb.HealthyPanicThreshold}
	switch {
	case lb.LeastRequest != nil:
		out.Policy, out.ChoiceCount = ir.LBLeastRequest, lb.LeastRequest.ChoiceCount
	case lb.Random != nil:
		out.Policy = ir.LBRandom
	case lb.RingHash != nil:
		out.Policy = ir.LBRingHash
		if size := lb.RingHash.RingHashConfig; size != nil {
			out.MinimumRingSize, out.MaximumRingSize = size.MinimumRingSize, size.MaximumRingSize
		}
	case lb.Maglev != nil:
		out.Policy = ir.LBMaglev
	}
	return out
}

// hashPolicies are a route's lbHash policies.
func hashPolicies(h *api.LbHash) []ir.HashPolicy {
	if h == nil {
		return nil
	}
	out := make([]ir.HashPolicy, 0, len(h.HashPolicies))
	for _, p := range h.HashPolicies {
		hp := ir.HashPolicy{Header: p.Header, SourceIP: p.SourceIP, Terminal: p.Terminal}
		if c := p.Cookie; c != nil {
			hp.Cookie = &ir.HashCookie{Name: c.Name, TTL: optDuration(c.TTL), Path: c.Path}
		}
		out = append(out, hp)
	}
	return out
}

func optDuration(d *metav1.Duration) *ir.Duration {
	if d == nil {
		return nil
	}
	return ir.NewDuration(d.Duration)
}
