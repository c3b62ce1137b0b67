package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/gluon-gateway/gluon/api"
)

// resilienceDetails shows an upstream's balancing policy, health checks and
// outlier detection, those it sets.
func resilienceDetails(s *api.UpstreamSpec) []string {
	var out []string
	if lb := s.LoadBalancerConfig; lb != nil {
		out = append(out, "load balancer: "+lbPolicyName(lb))
	}
	for _, hc := range s.HealthChecks {
		what := "tcp connect"
		if h := hc.HTTPHealthCheck; h != nil {
			what = "http GET " + h.Path
		}
		out = append(out, fmt.Sprintf("health check: %s every %s (timeout %s, out after %d failures, back after %d passes)",
			what, hc.Interval.Duration, hc.Timeout.Duration, hc.UnhealthyThreshold, hc.HealthyThreshold))
	}
	if od := s.OutlierDetection; od != nil {
		parts := []string{fmt.Sprintf("%d consecutive 5xx", valueOr(od.Consecutive5xx, 5))}
		if od.ConsecutiveGatewayFailure != nil {
			parts = append(parts, fmt.Sprintf("%d consecutive gateway failures", *od.ConsecutiveGatewayFailure))
		}
		base := 30 * time.Second
		if od.BaseEjectionTime != nil {
			base = od.BaseEjectionTime.Duration
		}
		out = append(out, fmt.Sprintf("outlier detection: eject after %s for %s (times ejections), at most %d%%",
			strings.Join(parts, " or "), base, valueOr(od.MaxEjectionPercent, 10)))
	}
	return out
}

func lbPolicyName(lb *api.LoadBalancerConfig) string {
	switch {
	case lb.LeastRequest != nil:
		return "least request"
	case lb.Random != nil:
		return "random"
	case lb.RingHash != nil:
		return "ring hash"
	case lb.Maglev != nil:
		return "maglev"
	}
	return "round robin"
}

func valueOr(v *uint32, def uint32) uint32 {
	if v == nil {
		return def
	}
	return *v
}

// endpointHealth shows the data plane's view of a cluster's endpoints:
// each one's health, and when an ejection ends.
func (s *statusDoc) endpointHealth(cluster string) []string {
	for _, c := range s.EndpointHealth {
		if c.Cluster != cluster {
			continue
		}
		out := []string{"endpoints:"}
		if c.Panic {
			out[0] = "endpoints (panic: too few healthy, all take traffic):"
		}
		for _, e := range c.Endpoints {
			line := "- " + e.Address + " " + e.Health
			if e.EjectedUntil != nil {
				line += " until " + e.EjectedUntil.Format(time.TimeOnly)
			}
			out = append(out, line)
		}
		return out
	}
	return nil
}
