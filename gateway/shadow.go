package gateway

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/gluon-gateway/gluon/api"
)

// ShadowWarnings finds routes that can never match because an earlier route
// takes every request they would (Gloo's "unordered routes" check): the
// earlier matcher's path covers the later one's and it asks for no
// condition the later one does not also ask for.
func ShadowWarnings(routes []api.Route) []api.Problem {
	earlier := newPathIndex(len(routes))
	var out []api.Problem
	var norm []pathMatcher
	for j := range routes {
		norm = normalize(norm[:0], &routes[j])
		for _, later := range norm {
			if i, ok := earlier.coveredBy(later); ok {
				out = append(out, api.Problem{Code: api.RouteShadowed, Path: routePath(j), Related: routePath(i),
					Message: fmt.Sprintf("%s is unreachable: an earlier route matches every request it would; put the more specific route first", later.describe())})
				break
			}
		}
		for _, m := range norm {
			earlier.add(j, m)
		}
	}
	return out
}

// pathIndex holds earlier matchers by the path they match (lower-cased
// when case-insensitive), so that only an earlier matcher whose path could
// cover a later one's is compared with it: one lookup per prefix of the
// later path that is some earlier path's length, instead of one
// comparison per earlier route.
type pathIndex struct {
	first   map[string]int // a path's newest matcher, an index in entries
	entries []indexed
	lengths []int // the lengths of the paths in first, ascending
}

type indexed struct {
	route int
	m     pathMatcher
	next  int // the previous matcher of the same path, or -1
}

func newPathIndex(size int) *pathIndex {
	return &pathIndex{first: make(map[string]int, size), entries: make([]indexed, 0, size)}
}

func (x *pathIndex) add(route int, m pathMatcher) {
	if m.regex {
		return // regexes are not compared
	}
	next, ok := x.first[m.lowerPath]
	if !ok {
		next = -1
		if i, found := slices.BinarySearch(x.lengths, len(m.lowerPath)); !found {
			x.lengths = slices.Insert(x.lengths, i, len(m.lowerPath))
		}
	}
	x.first[m.lowerPath] = len(x.entries)
	x.entries = append(x.entries, indexed{route, m, next})
}

// coveredBy returns the first earlier route with a matcher covering m.
func (x *pathIndex) coveredBy(m pathMatcher) (int, bool) {
	if m.regex {
		return 0, false
	}
	lower := strings.ToLower(m.path)
	first, found := 0, false
	for _, n := range x.lengths {
		if n > len(lower) {
			break
		}
		i, ok := x.first[lower[:n]]
		for ; ok && i >= 0; i = x.entries[i].next {
			e := &x.entries[i]
			if (!found || e.route < first) && covers(e.m, m) {
				first, found = e.route, true
			}
		}
	}
	return first, found
}

// pathMatcher is a matcher prepared once for pairwise comparison.
type pathMatcher struct {
	m         *api.Matcher
	regex     bool
	exact     bool
	path      string // the prefix or exact path ("/" when none)
	lowerPath string
	sensitive bool
}

var rootMatcher = api.Matcher{Prefix: "/"}

// normalize appends route r's matchers, prepared, to out.
func normalize(out []pathMatcher, r *api.Route) []pathMatcher {
	if len(r.Matchers) == 0 {
		return append(out, pathMatcher{m: &rootMatcher, path: "/", lowerPath: "/", sensitive: true})
	}
	for i := range r.Matchers {
		m := &r.Matchers[i]
		p := pathMatcher{m: m, regex: m.Regex != "", exact: m.Exact != "", path: m.Prefix + m.Exact}
		if p.path == "" {
			p.path = "/"
		}
		p.sensitive = m.CaseSensitive == nil || *m.CaseSensitive
		p.lowerPath = strings.ToLower(p.path)
		out = append(out, p)
	}
	return out
}

// covers reports whether every request b matches is matched by a.
func covers(a, b pathMatcher) bool {
	if a.regex || b.regex {
		return false // regexes are not compared
	}
	if !pathCovers(a, b) {
		return false
	}
	return subset(a.m.Headers, b.m.Headers) && subset(a.m.QueryParameters, b.m.QueryParameters) && methodsCover(a.m.Methods, b.m.Methods)
}

func pathCovers(a, b pathMatcher) bool {
	aPath, bPath := a.path, b.path
	if !a.sensitive {
		aPath, bPath = a.lowerPath, strings.ToLower(b.path)
	} else if !b.sensitive {
		return false
	}
	if a.exact {
		return b.exact && aPath == bPath
	}
	return strings.HasPrefix(bPath, aPath)
}

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

func (p pathMatcher) describe() string {
	switch {
	case p.exact:
		return "exact " + p.path
	case p.regex:
		return "regex " + p.m.Regex
	}
	return "prefix " + p.path
}
