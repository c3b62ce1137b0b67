package dataplane

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// redirectAction is a compiled RedirectAction.
type redirectAction struct {
	scheme        string // "" keeps the request's scheme
	host          string // "" keeps the request's host
	port          string // ":port", "" keeps it
	path          string
	pathHasQuery  bool
	hasPrefixRW   bool
	prefixRewrite string
	regexRewrite  *regexp.Regexp
	regexSubst    string
	stripQuery    bool
	code          int
}

func compileRedirect(ra *route.RedirectAction, pm *pathMatcher) (*redirectAction, error) {
	if err := onlyFields(ra, "https_redirect", "scheme_redirect", "host_redirect", "port_redirect",
		"path_redirect", "prefix_rewrite", "regex_rewrite", "strip_query", "response_code"); err != nil {
		return nil, err
	}
	a := &redirectAction{host: ra.GetHostRedirect(), stripQuery: ra.GetStripQuery()}
	switch {
	case ra.GetSchemeRedirect() != "":
		a.scheme = strings.ToLower(ra.GetSchemeRedirect())
	case ra.GetHttpsRedirect():
		a.scheme = "https"
	}
	if p := ra.GetPortRedirect(); p != 0 {
		a.port = ":" + strconv.FormatUint(uint64(p), 10)
	}
	switch p := ra.GetPathRewriteSpecifier().(type) {
	case nil:
	case *route.RedirectAction_PathRedirect:
		a.path, a.pathHasQuery = p.PathRedirect, strings.Contains(p.PathRedirect, "?")
	case *route.RedirectAction_PrefixRewrite:
		if pm.kind == pathRegex {
			return nil, errors.New("redirect prefix_rewrite cannot be used with a safe_regex match")
		}
		a.hasPrefixRW, a.prefixRewrite = true, p.PrefixRewrite
	case *route.RedirectAction_RegexRewrite:
		re, subst, err := compileRegexRewrite(p.RegexRewrite)
		if err != nil {
			return nil, fmt.Errorf("redirect regex_rewrite: %w", err)
		}
		a.regexRewrite, a.regexSubst = re, subst
	}
	switch ra.GetResponseCode() {
	case route.RedirectAction_MOVED_PERMANENTLY:
		a.code = 301
	case route.RedirectAction_FOUND:
		a.code = 302
	case route.RedirectAction_SEE_OTHER:
		a.code = 303
	case route.RedirectAction_TEMPORARY_REDIRECT:
		a.code = 307
	case route.RedirectAction_PERMANENT_REDIRECT:
		a.code = 308
	default:
		return nil, fmt.Errorf("unknown redirect response_code %v", ra.GetResponseCode())
	}
	return a, nil
}

// location builds the Location header exactly as Envoy's Utility::newUri does.
// The downstream scheme is always http: listeners are plain-text.
func (a *redirectAction) location(host, target, path string, pm *pathMatcher) string {
	const reqScheme = "http"
	scheme := reqScheme
	if a.scheme != "" {
		scheme = a.scheme
	}
	if a.host != "" {
		host = a.host
	} else {
		host = redirectHost(host, scheme, a.port, reqScheme)
	}

	switch {
	case a.hasPrefixRW:
		if rest, ok := afterMatchedPrefix(target, pm.value); ok {
			target = a.prefixRewrite + rest
		}
	case a.regexRewrite != nil:
		target = a.regexRewrite.ReplaceAllString(path, a.regexSubst) + target[len(path):]
	}
	finalPath := target
	if a.path != "" {
		finalPath = a.path
		if q := strings.IndexByte(target, '?'); !a.pathHasQuery && q >= 0 {
			finalPath += target[q:]
		}
	}
	if !strings.HasPrefix(finalPath, "/") {
		finalPath = "/" + finalPath
	}
	if !a.pathHasQuery && a.stripQuery {
		if q := strings.IndexByte(finalPath, '?'); q >= 0 {
			finalPath = finalPath[:q]
		}
	}
	return scheme + "://" + host + a.port + finalPath
}

// redirectHost is Envoy's processRequestHost: drop the request's port when a
// new port is set, or when switching scheme away from that scheme's default port.
func redirectHost(host, newScheme, newPort, reqScheme string) string {
	var end int
	if strings.HasPrefix(host, "[") {
		end = strings.LastIndex(host, "]:")
		if end >= 0 {
			end++
		}
	} else {
		end = strings.LastIndexByte(host, ':')
	}
	if end < 0 {
		return host
	}
	port := host[end:]
	remove := newPort != ""
	if newScheme != reqScheme {
		remove = remove || (reqScheme == "https" && port == ":443") || (reqScheme == "http" && port == ":80")
	}
	if remove {
		return host[:end]
	}
	return host
}

// directResponse is a compiled DirectResponseAction.
type directResponse struct {
	status int
	body   string
}

func compileDirectResponse(dr *route.DirectResponseAction) (*directResponse, error) {
	if err := onlyFields(dr, "status", "body"); err != nil {
		return nil, err
	}
	d := &directResponse{status: int(dr.GetStatus())}
	if d.status < 100 || d.status > 599 {
		return nil, fmt.Errorf("direct_response status %d out of range", d.status)
	}
	if b := dr.GetBody(); b != nil {
		if err := onlyFields(b, "inline_string", "inline_bytes"); err != nil {
			return nil, fmt.Errorf("direct_response body: %w", err)
		}
		switch s := b.GetSpecifier().(type) {
		case *core.DataSource_InlineString:
			d.body = s.InlineString
		case *core.DataSource_InlineBytes:
			d.body = string(s.InlineBytes)
		}
	}
	return d, nil
}
