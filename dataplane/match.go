package dataplane

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

type stringMatchKind uint8

const (
	matchExact stringMatchKind = iota
	matchPrefix
	matchSuffix
	matchContains
	matchRegex
)

// stringMatcher is a compiled envoy.type.matcher.v3.StringMatcher.
type stringMatcher struct {
	kind       stringMatchKind
	value      string // lower-cased for contains with ignoreCase
	ignoreCase bool
	re         *regexp.Regexp
}

func (m *stringMatcher) match(s string) bool {
	switch m.kind {
	case matchExact:
		if m.ignoreCase {
			return strings.EqualFold(s, m.value)
		}
		return s == m.value
	case matchPrefix:
		if m.ignoreCase {
			return len(s) >= len(m.value) && strings.EqualFold(s[:len(m.value)], m.value)
		}
		return strings.HasPrefix(s, m.value)
	case matchSuffix:
		if m.ignoreCase {
			return len(s) >= len(m.value) && strings.EqualFold(s[len(s)-len(m.value):], m.value)
		}
		return strings.HasSuffix(s, m.value)
	case matchContains:
		if m.ignoreCase {
			return strings.Contains(strings.ToLower(s), m.value)
		}
		return strings.Contains(s, m.value)
	default:
		return m.re.MatchString(s)
	}
}

func compileStringMatcher(sm *matcher.StringMatcher) (*stringMatcher, error) {
	if err := onlyFields(sm, "exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case"); err != nil {
		return nil, err
	}
	m := &stringMatcher{ignoreCase: sm.GetIgnoreCase()}
	switch p := sm.GetMatchPattern().(type) {
	case *matcher.StringMatcher_Exact:
		m.kind, m.value = matchExact, p.Exact
	case *matcher.StringMatcher_Prefix:
		m.kind, m.value = matchPrefix, p.Prefix
	case *matcher.StringMatcher_Suffix:
		m.kind, m.value = matchSuffix, p.Suffix
	case *matcher.StringMatcher_Contains:
		m.kind, m.value = matchContains, p.Contains
		if m.ignoreCase {
			m.value = strings.ToLower(m.value)
		}
	case *matcher.StringMatcher_SafeRegex:
		re, err := compileFullRegex(p.SafeRegex)
		if err != nil {
			return nil, err
		}
		// Envoy ignores ignore_case for regexes; so do we.
		m.kind, m.re, m.ignoreCase = matchRegex, re, false
	default:
		return nil, errors.New("string matcher has no pattern")
	}
	return m, nil
}

// compileFullRegex compiles an RE2 regex anchored at both ends: Envoy's
// safe_regex matches must match the whole input.
func compileFullRegex(rm *matcher.RegexMatcher) (*regexp.Regexp, error) {
	if err := onlyFields(rm, "regex", "google_re2"); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(`^(?:` + rm.GetRegex() + `)$`)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", rm.GetRegex(), err)
	}
	return re, nil
}

func compileRegex(rm *matcher.RegexMatcher) (*regexp.Regexp, error) {
	if err := onlyFields(rm, "regex", "google_re2"); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(rm.GetRegex())
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", rm.GetRegex(), err)
	}
	return re, nil
}

// headerSource says where a header matcher reads its value: a pseudo-header
// maps to a request field, anything else to the header map.
type headerSource uint8

const (
	fromHeader headerSource = iota
	fromMethod
	fromAuthority
	fromPath
	fromScheme
)

// headerMatcher is a compiled route.v3.HeaderMatcher.
type headerMatcher struct {
	key     string // canonical MIME key when source is fromHeader
	source  headerSource
	present bool           // for a present_match: match when present (true) or absent (false)
	str     *stringMatcher // nil for a present_match
	invert  bool
}

// match follows Envoy: multiple values are joined with ","; an absent header
// fails every value matcher (and so matches once inverted).
func (m *headerMatcher) match(r *http.Request, path string) bool {
	var value string
	found := true
	switch m.source {
	case fromMethod:
		value = r.Method
	case fromAuthority:
		value = r.Host
	case fromPath:
		value = path
	case fromScheme:
		value = "http"
	default:
		vs := r.Header[m.key]
		switch len(vs) {
		case 0:
			found = false
		case 1:
			value = vs[0]
		default:
			value = strings.Join(vs, ",")
		}
	}
	var ok bool
	if m.str == nil {
		ok = found == m.present
	} else {
		ok = found && m.str.match(value)
	}
	return ok != m.invert
}

func compileHeaderMatcher(hm *route.HeaderMatcher) (headerMatcher, error) {
	if err := onlyFields(hm, "name", "string_match", "present_match", "invert_match",
		"exact_match", "prefix_match", "suffix_match", "contains_match", "safe_regex_match"); err != nil {
		return headerMatcher{}, err
	}
	m := headerMatcher{invert: hm.GetInvertMatch()}
	switch name := strings.ToLower(hm.GetName()); name {
	case ":method":
		m.source = fromMethod
	case ":authority", "host":
		m.source = fromAuthority
	case ":path":
		m.source = fromPath
	case ":scheme":
		m.source = fromScheme
	default:
		if strings.HasPrefix(name, ":") {
			return headerMatcher{}, fmt.Errorf("header matcher on pseudo-header %q is not supported", name)
		}
		m.key = http.CanonicalHeaderKey(name)
	}
	var sm *matcher.StringMatcher
	switch s := hm.GetHeaderMatchSpecifier().(type) {
	case *route.HeaderMatcher_StringMatch:
		sm = s.StringMatch
	case *route.HeaderMatcher_PresentMatch:
		m.present = s.PresentMatch
		return m, nil
	case *route.HeaderMatcher_ExactMatch:
		sm = &matcher.StringMatcher{MatchPattern: &matcher.StringMatcher_Exact{Exact: s.ExactMatch}}
	case *route.HeaderMatcher_PrefixMatch:
		sm = &matcher.StringMatcher{MatchPattern: &matcher.StringMatcher_Prefix{Prefix: s.PrefixMatch}}
	case *route.HeaderMatcher_SuffixMatch:
		sm = &matcher.StringMatcher{MatchPattern: &matcher.StringMatcher_Suffix{Suffix: s.SuffixMatch}}
	case *route.HeaderMatcher_ContainsMatch:
		sm = &matcher.StringMatcher{MatchPattern: &matcher.StringMatcher_Contains{Contains: s.ContainsMatch}}
	case *route.HeaderMatcher_SafeRegexMatch:
		sm = &matcher.StringMatcher{MatchPattern: &matcher.StringMatcher_SafeRegex{SafeRegex: s.SafeRegexMatch}}
	default:
		// No specifier: Envoy treats this as a presence match.
		m.present = true
		return m, nil
	}
	str, err := compileStringMatcher(sm)
	if err != nil {
		return headerMatcher{}, fmt.Errorf("header %q: %w", hm.GetName(), err)
	}
	m.str = str
	return m, nil
}

// queryMatcher is a compiled route.v3.QueryParameterMatcher. Envoy matches the
// first occurrence of the parameter, on its raw (undecoded) value.
type queryMatcher struct {
	name string
	str  *stringMatcher // nil: present_match
}

func compileQueryMatcher(qm *route.QueryParameterMatcher) (queryMatcher, error) {
	if err := onlyFields(qm, "name", "string_match", "present_match"); err != nil {
		return queryMatcher{}, err
	}
	m := queryMatcher{name: qm.GetName()}
	switch s := qm.GetQueryParameterMatchSpecifier().(type) {
	case *route.QueryParameterMatcher_StringMatch:
		str, err := compileStringMatcher(s.StringMatch)
		if err != nil {
			return queryMatcher{}, fmt.Errorf("query parameter %q: %w", qm.GetName(), err)
		}
		m.str = str
	case *route.QueryParameterMatcher_PresentMatch:
		if !s.PresentMatch {
			return queryMatcher{}, fmt.Errorf("query parameter %q: present_match false is not supported", qm.GetName())
		}
	default:
		return queryMatcher{}, fmt.Errorf("query parameter %q: no match specifier", qm.GetName())
	}
	return m, nil
}

func (m *queryMatcher) match(rawQuery string) bool {
	v, ok := queryParam(rawQuery, m.name)
	if !ok {
		return false
	}
	return m.str == nil || m.str.match(v)
}

// queryParam scans a raw query for the first value of name without allocating.
func queryParam(rawQuery, name string) (string, bool) {
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k == name {
			return v, true
		}
	}
	return "", false
}

type pathMatchKind uint8

const (
	pathPrefix pathMatchKind = iota
	pathExact
	pathRegex
)

// pathMatcher is the path part of a compiled route.v3.RouteMatch.
type pathMatcher struct {
	kind          pathMatchKind
	value         string
	caseSensitive bool
	re            *regexp.Regexp
}

// match takes the request target (path and query, undecoded, as Envoy sees
// :path). Envoy matches prefix against the whole target, exact path and regex
// against the path without its query.
func (m *pathMatcher) match(target, path string) bool {
	switch m.kind {
	case pathPrefix:
		if m.caseSensitive {
			return strings.HasPrefix(target, m.value)
		}
		return len(target) >= len(m.value) && strings.EqualFold(target[:len(m.value)], m.value)
	case pathExact:
		if m.caseSensitive {
			return path == m.value
		}
		return strings.EqualFold(path, m.value)
	default:
		return m.re.MatchString(path)
	}
}
