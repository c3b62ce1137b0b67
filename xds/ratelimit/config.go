package ratelimit

import (
	"errors"
	"fmt"
	"strings"
)

// Config is one domain's limits, in the shape of envoyproxy/ratelimit's YAML
// config files (same field names), so a file written for the reference
// service decodes into it with sigs.k8s.io/yaml and means the same thing.
type Config struct {
	Domain      string       `json:"domain"`
	Descriptors []Descriptor `json:"descriptors,omitempty"`
}

// Descriptor is a node of a domain's limits tree. It matches a request
// descriptor entry with this Key and Value; an empty Value matches any
// value of the key (each value counted apart), and a Value containing '*'
// is a glob over the value (also counted per actual value), as in the
// reference service.
type Descriptor struct {
	Key         string       `json:"key"`
	Value       string       `json:"value,omitempty"`
	RateLimit   *Limit       `json:"rate_limit,omitempty"`
	Descriptors []Descriptor `json:"descriptors,omitempty"`
	// ShadowMode counts and reports OVER_LIMIT in the descriptor's status
	// code as OK: the overall answer is never OVER_LIMIT because of it.
	ShadowMode bool `json:"shadow_mode,omitempty"`
}

// Limit is requests per unit. Unit is second, minute, hour or day (the
// reference's week, month (30 days) and year (365 days) are accepted too),
// in any case. Unlimited limits match but never count; they take no unit.
type Limit struct {
	Unit            string `json:"unit,omitempty"`
	RequestsPerUnit uint32 `json:"requests_per_unit,omitempty"`
	Unlimited       bool   `json:"unlimited,omitempty"`
}

// Validate reports every problem in c, each with the path of the offending
// descriptor, so that a caller can reject one domain's config alone.
func (c Config) Validate() error {
	if c.Domain == "" {
		return errors.New("domain is required")
	}
	_, err := compileDomain(c)
	return err
}

// compileDomain validates c and builds its lookup tree.
func compileDomain(c Config) (*node, error) {
	var errs []error
	root := compileLevel(c.Descriptors, fmt.Sprintf("domain %q", c.Domain), &errs)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return root, nil
}

func compileLevel(ds []Descriptor, path string, errs *[]error) *node {
	n := &node{}
	if len(ds) == 0 {
		return n
	}
	n.children = make(map[entry]*node, len(ds))
	for i, d := range ds {
		p := fmt.Sprintf("%s: descriptors[%d] (%s=%s)", path, i, d.Key, d.Value)
		fail := func(format string, args ...any) {
			*errs = append(*errs, fmt.Errorf("%s: %s", p, fmt.Sprintf(format, args...)))
		}
		if d.Key == "" {
			fail("key is required")
		}
		k := entry{d.Key, d.Value}
		if _, dup := n.children[k]; dup {
			fail("key %q value %q is already defined at this level", d.Key, d.Value)
			continue
		}
		child := compileLevel(d.Descriptors, p, errs)
		if d.RateLimit != nil {
			l, err := compileLimit(*d.RateLimit, d.ShadowMode)
			if err != nil {
				fail("%v", err)
			}
			child.limit = l
		}
		n.children[k] = child
		if strings.Contains(d.Value, "*") {
			n.globs = append(n.globs, glob{key: d.Key, parts: strings.Split(d.Value, "*"), node: child})
		}
	}
	return n
}

func compileLimit(l Limit, shadow bool) (*limit, error) {
	unit, known := units[strings.ToLower(l.Unit)]
	switch {
	case l.Unlimited && (l.Unit != "" || l.RequestsPerUnit != 0):
		return nil, errors.New("an unlimited rate_limit takes no unit or requests_per_unit")
	case l.Unlimited:
		return &limit{unlimited: true}, nil
	case !known:
		return nil, fmt.Errorf("unknown unit %q (want second, minute, hour, day, week, month or year)", l.Unit)
	case l.RequestsPerUnit == 0:
		// The reference accepts 0 (deny everything); Gluon asks for an
		// explicit, visible limit instead of a silent block.
		return nil, errors.New("requests_per_unit must be at least 1")
	}
	return newLimit(l.RequestsPerUnit, unit, shadow), nil
}
