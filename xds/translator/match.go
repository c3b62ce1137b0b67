package translator

import (
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

func routeMatch(m *ir.Match, mem *routeMessages) *routev3.RouteMatch {
	out := mem.matches.next()
	switch {
	case m.PathExact != "":
		out.PathSpecifier = &routev3.RouteMatch_Path{Path: m.PathExact}
	case m.PathRegex != "":
		re := m.PathRegex
		if m.CaseInsensitive {
			re = "(?i)" + re // Envoy's case_sensitive does not apply to regexes
		}
		out.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: regex(re)}
	default:
		prefix := mem.prefixes.next()
		prefix.Prefix = m.PathPrefix
		out.PathSpecifier = prefix
	}
	if m.CaseInsensitive {
		out.CaseSensitive = wrapperspb.Bool(false)
	}
	for _, h := range m.Headers {
		out.Headers = append(out.Headers, headerMatcher(h))
	}
	if len(m.Methods) > 0 {
		out.Headers = append(out.Headers, methodMatcher(m.Methods))
	}
	for _, q := range m.QueryParams {
		out.QueryParameters = append(out.QueryParameters, queryMatcher(q))
	}
	return out
}

func headerMatcher(h ir.HeaderMatch) *routev3.HeaderMatcher {
	out := &routev3.HeaderMatcher{Name: h.Name, InvertMatch: h.Invert}
	if sm := stringMatch(h.Exact, h.Regex); sm != nil {
		out.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: sm}
	} else {
		out.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
	}
	return out
}

// methodMatcher matches the :method pseudo-header, Envoy's way to match methods.
func methodMatcher(methods []string) *routev3.HeaderMatcher {
	sm := stringMatch(methods[0], "")
	if len(methods) > 1 {
		sm = stringMatch("", strings.Join(methods, "|"))
	}
	return &routev3.HeaderMatcher{Name: ":method", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: sm}}
}

func queryMatcher(q ir.QueryMatch) *routev3.QueryParameterMatcher {
	out := &routev3.QueryParameterMatcher{Name: q.Name}
	if sm := stringMatch(q.Exact, q.Regex); sm != nil {
		out.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm}
	} else {
		out.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}
	}
	return out
}

// stringMatch returns an exact or (full-match) regex matcher, or nil when
// neither is given (a presence check).
func stringMatch(exact, re string) *matcherv3.StringMatcher {
	switch {
	case re != "":
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: regex(re)}}
	case exact != "":
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: exact}}
	}
	return nil
}

func regex(re string) *matcherv3.RegexMatcher { return &matcherv3.RegexMatcher{Regex: re} }
