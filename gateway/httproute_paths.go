package gateway

import (
	"cmp"
	"errors"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// pathPart is one Gluon path matcher of a Gateway API path match.
type pathPart struct {
	exact, prefix, regex string
	// subpath parts match below the path ("/foo/" for PathPrefix "/foo").
	subpath bool
}

func pathOf(p *gwv1.HTTPPathMatch) (gwv1.PathMatchType, string) {
	typ, value := gwv1.PathMatchPathPrefix, "/"
	if p != nil && p.Type != nil {
		typ = *p.Type
	}
	if p != nil && p.Value != nil {
		value = *p.Value
	}
	return typ, value
}

var errReplacePrefix = errors.New("ReplacePrefixMatch needs a PathPrefix match")

// pathParts translates a path match. A Gateway API prefix matches whole
// path elements (/foo matches /foo and /foo/bar, not /foobar) and ignores a
// trailing slash, where Gluon's prefix matches characters: it takes an
// exact match of the path and a prefix match of the path and a slash.
// Rewriting the root prefix needs the same split, so that "/" itself is
// not rewritten with a trailing slash.
func pathParts(p *gwv1.HTTPPathMatch, replacesPrefix bool) ([]pathPart, error) {
	typ, value := pathOf(p)
	switch typ {
	case gwv1.PathMatchExact:
		if replacesPrefix {
			return nil, errReplacePrefix
		}
		return []pathPart{{exact: value}}, nil
	case gwv1.PathMatchRegularExpression:
		if replacesPrefix {
			return nil, errReplacePrefix
		}
		return []pathPart{{regex: value}}, checkRegex(true, value)
	case gwv1.PathMatchPathPrefix:
		trimmed := strings.TrimSuffix(value, "/")
		if trimmed == "" && !replacesPrefix {
			return []pathPart{{prefix: "/", subpath: true}}, nil
		}
		return []pathPart{{exact: cmp.Or(trimmed, "/")}, {prefix: trimmed + "/", subpath: true}}, nil
	}
	return nil, errors.New("path match type " + string(typ) + " is not supported")
}

// rewrite is what replaces the matched prefix for ReplacePrefixMatch, so
// that exactly one slash separates the replacement from the rest of the
// path, and the path is never empty.
func (p pathPart) rewrite(replacement string) string {
	r := strings.TrimSuffix(replacement, "/")
	if p.subpath {
		return r + "/"
	}
	return cmp.Or(r, "/")
}

// withPrefixRewrite sets a route's prefix rewrite (of the request, or of the
// redirect's location) without touching the options it shares with the
// rule's other routes.
func withPrefixRewrite(r api.Route, rewrite string) api.Route {
	if r.RedirectAction != nil {
		a := *r.RedirectAction
		a.PrefixRewrite = rewrite
		r.RedirectAction = &a
		return r
	}
	var o api.RouteOptions
	if r.Options != nil {
		o = *r.Options
	}
	o.PrefixRewrite = &rewrite
	r.Options = &o
	return r
}

// matchRank is what the Gateway API orders matches by, after hostnames.
type matchRank struct {
	exact            bool
	pathLen          int
	regex            bool
	method           bool
	headers, queries int
}

func rankMatch(m *gwv1.HTTPRouteMatch) matchRank {
	typ, value := pathOf(m.Path)
	return matchRank{
		exact:   typ == gwv1.PathMatchExact,
		pathLen: len(value),
		regex:   typ == gwv1.PathMatchRegularExpression,
		method:  m.Method != nil,
		headers: len(m.Headers),
		queries: len(m.QueryParams),
	}
}

// compare is negative when r goes first: exact paths, then the longest
// prefix (a regex ranks by its length too, after a prefix as long), then a
// method, then the most headers, then the most query parameters.
func (r matchRank) compare(o matchRank) int {
	return cmp.Or(
		firstIf(r.exact, o.exact),
		cmp.Compare(o.pathLen, r.pathLen),
		firstIf(!r.regex, !o.regex),
		firstIf(r.method, o.method),
		cmp.Compare(o.headers, r.headers),
		cmp.Compare(o.queries, r.queries),
	)
}

// firstIf orders true before false.
func firstIf(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}
