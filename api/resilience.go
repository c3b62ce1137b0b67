package api

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OutlierDetection is Gloo's (Envoy's) passive health checking: an endpoint
// answering too many errors in a row leaves rotation for a while.
type OutlierDetection struct {
	// Consecutive5xx ejects after that many 5xx (or failed connections) in
	// a row; Envoy's default 5.
	Consecutive5xx *uint32 `json:"consecutive5xx,omitempty"`
	// ConsecutiveGatewayFailure ejects after that many 502, 503, 504 or
	// failed connections in a row; off unless set.
	ConsecutiveGatewayFailure *uint32 `json:"consecutiveGatewayFailure,omitempty"`
	// Interval is how often ejections are reconsidered (default 10s).
	Interval *metav1.Duration `json:"interval,omitempty"`
	// BaseEjectionTime times the number of ejections so far is how long an
	// endpoint stays out (default 30s).
	BaseEjectionTime *metav1.Duration `json:"baseEjectionTime,omitempty"`
	// MaxEjectionPercent of the endpoints may be out at once (default 10);
	// one may always be.
	MaxEjectionPercent *uint32 `json:"maxEjectionPercent,omitempty"`
}

// HealthCheck is Envoy's active health check, as Gloo's Upstream takes it:
// exactly one of httpHealthCheck and tcpHealthCheck.
type HealthCheck struct {
	Timeout  *metav1.Duration `json:"timeout"`
	Interval *metav1.Duration `json:"interval"`
	// UnhealthyThreshold failed checks in a row take an endpoint out of
	// rotation; HealthyThreshold passed ones bring it back.
	UnhealthyThreshold uint32           `json:"unhealthyThreshold"`
	HealthyThreshold   uint32           `json:"healthyThreshold"`
	HTTPHealthCheck    *HTTPHealthCheck `json:"httpHealthCheck,omitempty"`
	TCPHealthCheck     *TCPHealthCheck  `json:"tcpHealthCheck,omitempty"`
}

// HTTPHealthCheck passes when GET Path answers an expected status.
type HTTPHealthCheck struct {
	Path string `json:"path"`
	// Host is the Host header sent (default: the cluster's name, as Envoy).
	Host string `json:"host,omitempty"`
	// ExpectedStatuses are [start, end) ranges; default [200, 201).
	ExpectedStatuses []StatusRange `json:"expectedStatuses,omitempty"`
}

// StatusRange is the HTTP statuses from Start up to, not including, End.
type StatusRange struct {
	Start uint32 `json:"start"`
	End   uint32 `json:"end"`
}

// TCPHealthCheck passes when a connection opens.
type TCPHealthCheck struct{}

// LoadBalancerConfig chooses how requests spread over an upstream's
// endpoints (at most one policy; default round robin).
type LoadBalancerConfig struct {
	// HealthyPanicThreshold: below this percentage of healthy endpoints,
	// all of them take traffic again (default 50).
	HealthyPanicThreshold *float64            `json:"healthyPanicThreshold,omitempty"`
	RoundRobin            *RoundRobinConfig   `json:"roundRobin,omitempty"`
	LeastRequest          *LeastRequestConfig `json:"leastRequest,omitempty"`
	Random                *RandomConfig       `json:"random,omitempty"`
	// RingHash and Maglev hash each request by the route's lbHash
	// policies: the same key lands on the same endpoint (sticky sessions).
	RingHash *RingHashConfig `json:"ringHash,omitempty"`
	Maglev   *MaglevConfig   `json:"maglev,omitempty"`
}

// RoundRobinConfig is weighted round robin.
type RoundRobinConfig struct{}

// LeastRequestConfig picks the less busy of ChoiceCount random endpoints
// (default 2).
type LeastRequestConfig struct {
	ChoiceCount *uint32 `json:"choiceCount,omitempty"`
}

// RandomConfig picks an endpoint at random.
type RandomConfig struct{}

// RingHashConfig is Envoy's ketama ring.
type RingHashConfig struct {
	RingHashConfig *RingSize `json:"ringHashConfig,omitempty"`
}

// RingSize bounds the number of ring entries (Envoy: 1024 to 8M).
type RingSize struct {
	MinimumRingSize *uint64 `json:"minimumRingSize,omitempty"`
	MaximumRingSize *uint64 `json:"maximumRingSize,omitempty"`
}

// MaglevConfig is Google's Maglev table (65537 entries).
type MaglevConfig struct{}

// LbHash is Gloo's route option naming what a request is hashed by for a
// ring hash or maglev upstream.
type LbHash struct {
	HashPolicies []HashPolicy `json:"hashPolicies"`
}

// HashPolicy hashes one property of the request: exactly one of header,
// cookie, sourceIp. Terminal stops at this policy when it yields a value.
type HashPolicy struct {
	Header   string      `json:"header,omitempty"`
	Cookie   *HashCookie `json:"cookie,omitempty"`
	SourceIP bool        `json:"sourceIp,omitempty"`
	Terminal bool        `json:"terminal,omitempty"`
}

// HashCookie hashes a cookie; with a TTL the gateway sets it on a response
// to a request that had none, so the client sticks from then on.
type HashCookie struct {
	Name string           `json:"name"`
	TTL  *metav1.Duration `json:"ttl,omitempty"`
	Path string           `json:"path,omitempty"`
}

// RetryBudget bounds retries in flight to a share of the active requests
// instead of maxRetries.
type RetryBudget struct {
	// BudgetPercent of active requests may be retries (default 20).
	BudgetPercent *float64 `json:"budgetPercent,omitempty"`
	// MinRetryConcurrency is allowed whatever the share (default 3).
	MinRetryConcurrency *uint32 `json:"minRetryConcurrency,omitempty"`
}

func validateUpstreamPolicies(f *fieldErrors, s *UpstreamSpec) {
	validatePositive(f, "spec.connectTimeout", s.ConnectTimeout)
	if cb := s.CircuitBreakers; cb != nil && cb.RetryBudget != nil && cb.RetryBudget.BudgetPercent != nil {
		validatePercentage(f, "spec.circuitBreakers.retryBudget.budgetPercent", *cb.RetryBudget.BudgetPercent)
	}
	if od := s.OutlierDetection; od != nil {
		validatePositive(f, "spec.outlierDetection.interval", od.Interval)
		validatePositive(f, "spec.outlierDetection.baseEjectionTime", od.BaseEjectionTime)
		if od.MaxEjectionPercent != nil && *od.MaxEjectionPercent > 100 {
			f.add("spec.outlierDetection.maxEjectionPercent", "%d is not a percentage (0-100)", *od.MaxEjectionPercent)
		}
	}
	if len(s.HealthChecks) > 1 {
		f.add("spec.healthChecks", "only one health check per upstream is supported, got %d", len(s.HealthChecks))
	}
	for i := range s.HealthChecks {
		validateHealthCheck(f, idx("spec.healthChecks", i), &s.HealthChecks[i])
	}
	if lb := s.LoadBalancerConfig; lb != nil {
		validateLoadBalancer(f, "spec.loadBalancerConfig", lb)
	}
}

func validateHealthCheck(f *fieldErrors, path string, hc *HealthCheck) {
	if hc.Timeout == nil || hc.Timeout.Duration <= 0 {
		f.add(path+".timeout", "must be a positive duration")
	}
	if hc.Interval == nil || hc.Interval.Duration <= 0 {
		f.add(path+".interval", "must be a positive duration")
	}
	if hc.UnhealthyThreshold == 0 {
		f.add(path+".unhealthyThreshold", "must be at least 1")
	}
	if hc.HealthyThreshold == 0 {
		f.add(path+".healthyThreshold", "must be at least 1")
	}
	if countSet(hc.HTTPHealthCheck != nil, hc.TCPHealthCheck != nil) != 1 {
		f.add(path, "exactly one of httpHealthCheck, tcpHealthCheck must be set")
	}
	h := hc.HTTPHealthCheck
	if h == nil {
		return
	}
	if !strings.HasPrefix(h.Path, "/") {
		f.add(path+".httpHealthCheck.path", "%q is not an absolute path", h.Path)
	}
	for i, r := range h.ExpectedStatuses {
		if r.Start < 100 || r.End > 600 || r.Start >= r.End {
			f.add(idx(path+".httpHealthCheck.expectedStatuses", i), "[%d, %d) is not a range of HTTP statuses", r.Start, r.End)
		}
	}
}

func validateLoadBalancer(f *fieldErrors, path string, lb *LoadBalancerConfig) {
	if countSet(lb.RoundRobin != nil, lb.LeastRequest != nil, lb.Random != nil, lb.RingHash != nil, lb.Maglev != nil) > 1 {
		f.add(path, "only one of roundRobin, leastRequest, random, ringHash, maglev may be set")
	}
	if lb.HealthyPanicThreshold != nil {
		validatePercentage(f, path+".healthyPanicThreshold", *lb.HealthyPanicThreshold)
	}
	if c := lb.LeastRequest; c != nil && c.ChoiceCount != nil && *c.ChoiceCount < 2 {
		f.add(path+".leastRequest.choiceCount", "must be at least 2")
	}
	if r := lb.RingHash; r != nil && r.RingHashConfig != nil {
		validateRingSize(f, path+".ringHash.ringHashConfig", r.RingHashConfig)
	}
}

// Envoy's bounds on a hash ring.
const (
	minRingSize = 1
	maxRingSize = 8 << 20
)

func validateRingSize(f *fieldErrors, path string, s *RingSize) {
	lo, hi := uint64(1024), uint64(maxRingSize)
	if s.MinimumRingSize != nil {
		lo = *s.MinimumRingSize
	}
	if s.MaximumRingSize != nil {
		hi = *s.MaximumRingSize
	}
	if lo < minRingSize || hi > maxRingSize || lo > hi {
		f.add(path, "ring size must satisfy 1 <= minimumRingSize <= maximumRingSize <= %d", maxRingSize)
	}
}

func validateLbHash(f *fieldErrors, path string, h *LbHash) {
	if h == nil {
		return
	}
	if len(h.HashPolicies) == 0 {
		f.add(path+".hashPolicies", "at least one hash policy is required")
	}
	for i, p := range h.HashPolicies {
		pp := idx(path+".hashPolicies", i)
		if countSet(p.Header != "", p.Cookie != nil, p.SourceIP) != 1 {
			f.add(pp, "exactly one of header, cookie, sourceIp must be set")
		}
		if c := p.Cookie; c != nil {
			if c.Name == "" || strings.ContainsAny(c.Name, "=;, \t") {
				f.add(pp+".cookie.name", "%q is not a cookie name", c.Name)
			}
			if c.TTL != nil && c.TTL.Duration < 0 {
				f.add(pp+".cookie.ttl", "must not be negative")
			}
		}
	}
}
