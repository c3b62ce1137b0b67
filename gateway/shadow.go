package gateway

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/gluon-gateway/gluon/api"
)

// shadowWarnings finds routes that can never match because an earlier route
// takes every request they would (Gloo's "unordered routes" check): the
// earlier matcher's path covers the later one's and it asks for no
// condition the later one does not also ask for.
func shadowWarnings(routes []api.Route) []string {
	var out []string
	for j := range routes {
		for _, later := range matchersOf(&routes[j]) {
			if i, ok := shadowedBy(routes[:j], later); ok {
				out = append(out, fmt.Sprintf("route %d (%s) is unreachable: route %d matches every request it would; put the more specific route first", j, describe(later), i))
				break
			}
		}
	}
	return out
}

func shadowedBy(earlier []api.Route, later api.Matcher) (int, bool) {
	for i := range earlier {
		for _, m := range matchersOf(&earlier[i]) {
			if covers(m, later) {
				return i, true
			}
		}
	}
	return 0, false
}

func matchersOf(r *api.Route) []api.Matcher {
	if len(r.Matchers) == 0 {
		return []api.Matcher{{Prefix: "/"}}
	}
	return r.Matchers
}

// covers reports whether every request b matches is matched by a.
func covers(a, b api.Matcher) bool {
	if a.Regex != "" || b.Regex != "" {
		return false // regexes are not compared
	}
	aPrefix := a.Prefix
	if aPrefix == "" && a.Exact == "" {
		aPrefix = "/"
	}
	bPath := b.Prefix + b.Exact
	if bPath == "" {
		bPath = "/"
	}
	aSens, bSens := sensitive(a), sensitive(b)
	if !aSens {
		aPrefix, bPath = strings.ToLower(aPrefix), strings.ToLower(bPath)
	} else if !bSens {
		return false
	}
	switch {
	case a.Exact != "":
		if b.Exact == "" || !pathEqual(a.Exact, b.Exact, aSens) {
			return false
		}
	case !strings.HasPrefix(bPath, aPrefix):
		return false
	}
	return subset(a.Headers, b.Headers) && subset(a.QueryParameters, b.QueryParameters) && methodsCover(a.Methods, b.Methods)
}

func pathEqual(a, b string, caseSensitive bool) bool {
	if caseSensitive {
		return a == b
	}
	return strings.EqualFold(a, b)
}

func sensitive(m api.Matcher) bool { return m.CaseSensitive == nil || *m.CaseSensitive }

// subset reports whether every condition in a also appears in b.
func subset[T any](a, b []T) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			if reflect.DeepEqual(x, y) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func methodsCover(a, b []string) bool {
	if len(a) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	return subset(b, a)
}

func describe(m api.Matcher) string {
	switch {
	case m.Exact != "":
		return "exact " + m.Exact
	case m.Regex != "":
		return "regex " + m.Regex
	case m.Prefix != "":
		return "prefix " + m.Prefix
	}
	return "prefix /"
}
