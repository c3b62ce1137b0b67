package dataplane

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// wildcardDomain is "*.foo.com" stored as affix ".foo.com", or "foo.*" stored as "foo.".
type wildcardDomain struct {
	affix string
	vh    *virtualHost
}

// vhostIndex selects a virtual host by Host the way Envoy does: exact domain,
// then suffix wildcards longest first, then prefix wildcards longest first,
// then "*". Domains are case-insensitive.
type vhostIndex struct {
	exact  map[string]*virtualHost
	suffix []wildcardDomain
	prefix []wildcardDomain
	any    *virtualHost
}

func (x *vhostIndex) add(domain string, vh *virtualHost) error {
	d := strings.ToLower(domain)
	switch {
	case d == "":
		return fmt.Errorf("virtual host %q: empty domain", vh.name)
	case d == "*":
		if x.any != nil {
			return fmt.Errorf("virtual host %q: domain %q is already used by virtual host %q", vh.name, domain, x.any.name)
		}
		x.any = vh
		return nil
	case strings.Count(d, "*") > 1, strings.Contains(d, "*") && d[0] != '*' && d[len(d)-1] != '*':
		return fmt.Errorf("virtual host %q: domain %q: a wildcard may only lead or trail", vh.name, domain)
	case d[0] == '*':
		return addWildcard(&x.suffix, d[1:], vh, domain)
	case d[len(d)-1] == '*':
		return addWildcard(&x.prefix, d[:len(d)-1], vh, domain)
	}
	if prev, ok := x.exact[d]; ok {
		return fmt.Errorf("virtual host %q: domain %q is already used by virtual host %q", vh.name, domain, prev.name)
	}
	if x.exact == nil {
		x.exact = map[string]*virtualHost{}
	}
	x.exact[d] = vh
	return nil
}

func addWildcard(list *[]wildcardDomain, affix string, vh *virtualHost, domain string) error {
	for _, w := range *list {
		if w.affix == affix {
			return fmt.Errorf("virtual host %q: domain %q is already used by virtual host %q", vh.name, domain, w.vh.name)
		}
	}
	*list = append(*list, wildcardDomain{affix: affix, vh: vh})
	// Longest first; the stable sort keeps declaration order between equal lengths.
	slices.SortStableFunc(*list, func(a, b wildcardDomain) int { return cmp.Compare(len(b.affix), len(a.affix)) })
	return nil
}

// find returns the virtual host for host, or nil. The wildcard must match at
// least one character, as in Envoy.
func (x *vhostIndex) find(host string) *virtualHost {
	host = strings.ToLower(host) // no allocation when already lower-case
	if vh, ok := x.exact[host]; ok {
		return vh
	}
	for _, w := range x.suffix {
		if len(host) > len(w.affix) && strings.HasSuffix(host, w.affix) {
			return w.vh
		}
	}
	for _, w := range x.prefix {
		if len(host) > len(w.affix) && strings.HasPrefix(host, w.affix) {
			return w.vh
		}
	}
	return x.any
}

// stripPort removes a trailing ":port" from a Host value, IPv6 literals included.
func stripPort(host string) string {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host[i:], ']') >= 0 {
		return host
	}
	if host[0] == '[' {
		return host[:i] // "[::1]:80" keeps its brackets like Envoy
	}
	if strings.IndexByte(host[:i], ':') >= 0 {
		return host // bare IPv6 literal without port
	}
	return host[:i]
}
