package ratelimit

import (
	"strings"

	rlcommon "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	rlspb "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
)

// node is one level of a compiled limits tree.
type node struct {
	// children holds exact key+value nodes and key-only ("" value) nodes.
	children map[entry]*node
	// globs are the children whose value contains '*', in config order.
	globs []glob
	limit *limit
}

type entry struct{ key, value string }

type glob struct {
	key   string
	parts []string // the value split on '*'
	node  *node
}

// limit is a compiled Limit. The proto is built once and shared by every
// response (responses are only marshalled, never mutated).
type limit struct {
	proto     *rlspb.RateLimitResponse_RateLimit
	seconds   int64 // window length
	unlimited bool
	shadow    bool
}

func newLimit(rpu uint32, unit rlspb.RateLimitResponse_RateLimit_Unit, shadow bool) *limit {
	return &limit{
		proto:   &rlspb.RateLimitResponse_RateLimit{RequestsPerUnit: rpu, Unit: unit},
		seconds: unitSeconds[unit],
		shadow:  shadow,
	}
}

var units = map[string]rlspb.RateLimitResponse_RateLimit_Unit{
	"second": rlspb.RateLimitResponse_RateLimit_SECOND,
	"minute": rlspb.RateLimitResponse_RateLimit_MINUTE,
	"hour":   rlspb.RateLimitResponse_RateLimit_HOUR,
	"day":    rlspb.RateLimitResponse_RateLimit_DAY,
	"week":   rlspb.RateLimitResponse_RateLimit_WEEK,
	"month":  rlspb.RateLimitResponse_RateLimit_MONTH,
	"year":   rlspb.RateLimitResponse_RateLimit_YEAR,
}

// unitSeconds are the reference's window lengths (utils.UnitToDivider):
// a month is 30 days and a year 365, windows aligned to the Unix epoch.
var unitSeconds = map[rlspb.RateLimitResponse_RateLimit_Unit]int64{
	rlspb.RateLimitResponse_RateLimit_SECOND: 1,
	rlspb.RateLimitResponse_RateLimit_MINUTE: 60,
	rlspb.RateLimitResponse_RateLimit_HOUR:   3600,
	rlspb.RateLimitResponse_RateLimit_DAY:    86400,
	rlspb.RateLimitResponse_RateLimit_WEEK:   7 * 86400,
	rlspb.RateLimitResponse_RateLimit_MONTH:  30 * 86400,
	rlspb.RateLimitResponse_RateLimit_YEAR:   365 * 86400,
}

// lookup returns the limit for a request descriptor's entries, following
// envoyproxy/ratelimit's GetLimit: walk the tree one entry per level,
// preferring an exact key+value, then a glob value, then the key alone;
// the limit applies only if the node matched by the LAST entry has one.
// A limit on a shallower node does not apply to a longer descriptor, and a
// descriptor that runs past the tree's depth matches nothing.
func (n *node) lookup(entries []*rlcommon.RateLimitDescriptor_Entry) *limit {
	for i, e := range entries {
		next := n.children[entry{e.GetKey(), e.GetValue()}]
		if next == nil {
			for _, g := range n.globs {
				if g.key == e.GetKey() && globMatch(g.parts, e.GetValue()) {
					next = g.node
					break
				}
			}
		}
		if next == nil {
			next = n.children[entry{e.GetKey(), ""}]
		}
		if next == nil {
			return nil
		}
		if i == len(entries)-1 {
			return next.limit
		}
		n = next
	}
	return nil
}

// globMatch matches value against a pattern split on '*' (the reference's
// wildcardMatch): the first part is a prefix, the last a suffix, and the
// middle parts appear in order in between.
func globMatch(parts []string, value string) bool {
	if len(parts) == 1 {
		return parts[0] == value
	}
	first, last := parts[0], parts[len(parts)-1]
	if len(value) < len(first)+len(last) || !strings.HasPrefix(value, first) || !strings.HasSuffix(value, last) {
		return false
	}
	rest := value[len(first) : len(value)-len(last)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}
