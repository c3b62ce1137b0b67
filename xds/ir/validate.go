package ir

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"sync"
)

// ValidateNames checks that cluster and listener names are unique: the one
// invariant a proxy fails as a whole. Stage 2 checks the rest element by
// element (Cluster.Validate, Route.Validate) and leaves out what fails.
func (p *Proxy) ValidateNames() error {
	var errs []error
	clusters := map[string]bool{}
	for _, c := range p.Clusters {
		if clusters[c.Name] {
			errs = append(errs, fmt.Errorf("cluster %q: duplicate name", c.Name))
		}
		clusters[c.Name] = true
	}
	listeners := map[string]bool{}
	for _, l := range p.Listeners {
		if listeners[l.Name] {
			errs = append(errs, fmt.Errorf("listener %q: duplicate name", l.Name))
		}
		listeners[l.Name] = true
	}
	return errors.Join(errs...)
}

// Validate checks a cluster on its own.
func (c *Cluster) Validate() error {
	switch c.Discovery {
	case DiscoveryEDS, DiscoveryStrictDNS, DiscoveryStatic:
	default:
		return fmt.Errorf("cluster %q: unknown discovery %q", c.Name, c.Discovery)
	}
	if len(c.Endpoints) == 0 && c.Discovery != DiscoveryEDS {
		return fmt.Errorf("cluster %q: no endpoints", c.Name)
	}
	if lb := c.LoadBalancer; lb != nil {
		switch lb.Policy {
		case LBRoundRobin, LBLeastRequest, LBRandom, LBRingHash, LBMaglev:
		default:
			return fmt.Errorf("cluster %q: unknown load-balancer policy %q", c.Name, lb.Policy)
		}
	}
	for i, hc := range c.HealthChecks {
		if hc.Interval <= 0 || hc.Timeout <= 0 || hc.HealthyThreshold == 0 || hc.UnhealthyThreshold == 0 {
			return fmt.Errorf("cluster %q: health check %d needs a positive interval, timeout and thresholds", c.Name, i)
		}
	}
	return nil
}

// regexVerdicts remembers the verdict on each regex across calls: every
// config push validates the whole IR again, large configs repeat the same
// few patterns across thousands of routes, and from one push to the next
// almost every pattern is unchanged. Parsing was a tenth of stage 2.
var regexVerdicts = verdictMemo{limit: 1 << 15}

// verdictMemo is a bounded, concurrency-safe memo of a regex's verdict. It
// forgets everything when full: simpler than LRU, and a config with more
// distinct patterns than the limit only loses the memo's benefit.
type verdictMemo struct {
	mu       sync.Mutex
	limit    int
	verdicts map[string]error
}

// check parses without compiling: the syntax is what Envoy's RE2 would
// reject, and parsing costs a fraction of a full compile.
func (c *verdictMemo) check(re string) error {
	c.mu.Lock()
	err, ok := c.verdicts[re]
	c.mu.Unlock()
	if ok {
		return err
	}
	_, err = syntax.Parse(re, syntax.Perl)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.verdicts) >= c.limit || c.verdicts == nil {
		c.verdicts = make(map[string]error)
	}
	c.verdicts[re] = err
	return err
}

// Validate checks a route on its own; clusters are the ones it may name.
func (r *Route) Validate(clusters map[string]bool) error {
	n := 0
	for _, set := range []bool{r.Forward != nil, r.Redirect != nil, r.DirectResponse != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("route %q: %d actions, want exactly 1", r.Name, n)
	}
	m := r.Match
	paths := 0
	for _, p := range []string{m.PathPrefix, m.PathExact, m.PathRegex} {
		if p != "" {
			paths++
		}
	}
	if paths != 1 {
		return fmt.Errorf("route %q: %d path conditions, want exactly 1", r.Name, paths)
	}
	for _, re := range []string{m.PathRegex, regexOf(r.Forward)} {
		if re == "" {
			continue // most routes have none; compiling "" costs a microsecond each
		}
		if err := regexVerdicts.check(re); err != nil {
			return fmt.Errorf("route %q: %w", r.Name, err)
		}
	}
	if r.Forward != nil {
		if len(r.Forward.Destinations) == 0 {
			return fmt.Errorf("route %q: no destinations", r.Name)
		}
		for _, d := range r.Forward.Destinations {
			if !clusters[d.Cluster] {
				return fmt.Errorf("route %q: unknown cluster %q", r.Name, d.Cluster)
			}
		}
		for _, m := range r.Forward.Mirrors {
			if !clusters[m.Cluster] {
				return fmt.Errorf("route %q: unknown mirror cluster %q", r.Name, m.Cluster)
			}
			if m.Percent > 100 {
				return fmt.Errorf("route %q: mirror to %q: percent %d is over 100", r.Name, m.Cluster, m.Percent)
			}
		}
	}
	return nil
}

func regexOf(f *Forward) string {
	if f == nil || f.RegexRewrite == nil {
		return ""
	}
	return f.RegexRewrite.Pattern
}
