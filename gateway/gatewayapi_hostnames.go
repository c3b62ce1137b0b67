package gateway

import (
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// hostnameCovers reports whether pattern ("*", "*.suffix" or a hostname)
// matches host (a hostname or "*.suffix"). A wildcard stands for one or
// more labels, as in the Gateway API: "*.example.com" matches
// "a.example.com", "a.b.example.com" and "*.b.example.com", never
// "example.com".
func hostnameCovers(pattern, host string) bool {
	switch {
	case pattern == "*" || pattern == host:
		return true
	case strings.HasPrefix(pattern, "*."):
		suffix := pattern[1:]
		return strings.HasSuffix(host, suffix) && len(host) > len(suffix)
	}
	return false
}

// effectiveHostnames intersects a listener's hostname ("*" for none) with a
// route's hostnames, per the Gateway API: the more specific of each pair
// that matches. None means the route does not attach to the listener.
func effectiveHostnames(listener string, route []gwv1.Hostname) []string {
	if len(route) == 0 {
		return []string{listener}
	}
	var out []string
	for _, h := range route {
		switch host := string(h); {
		case hostnameCovers(listener, host):
			out = append(out, host)
		case hostnameCovers(host, listener):
			out = append(out, listener)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// hostnameRank orders hostnames by the Gateway API's precedence: the most
// characters of a non-wildcard hostname first, then the most characters.
type hostnameRank struct{ exact, length int }

func rankHostname(h string) hostnameRank {
	r := hostnameRank{length: len(h)}
	if !strings.HasPrefix(h, "*") {
		r.exact = len(h)
	}
	return r
}

func (r hostnameRank) before(o hostnameRank) bool {
	if r.exact != o.exact {
		return r.exact > o.exact
	}
	return r.length > o.length
}
