package gateway

import (
	"regexp"
	"strconv"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// corsPolicy is a validated CorsPolicy in the IR; nil when there is none.
func corsPolicy(c *api.CorsPolicy) *ir.CORS {
	if c == nil {
		return nil
	}
	if c.DisableForRoute {
		return &ir.CORS{Disabled: true}
	}
	return &ir.CORS{
		AllowOrigins: c.AllowOrigin, AllowOriginRegexes: c.AllowOriginRegex,
		AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders, ExposeHeaders: c.ExposeHeaders,
		MaxAge: c.MaxAge, AllowCredentials: c.AllowCredentials,
	}
}

// corsFromFilter is the Gateway API CORS filter as Gloo's policy. An origin
// whose host holds "*" matches any DNS labels there (and nothing else: no
// "/", "@" or ":"): it becomes a regex.
func corsFromFilter(c *gwv1.HTTPCORSFilter) *api.CorsPolicy {
	p := &api.CorsPolicy{AllowCredentials: c.AllowCredentials != nil && *c.AllowCredentials}
	for _, o := range c.AllowOrigins {
		s := string(o)
		if s == "*" || !strings.Contains(s, "*") {
			p.AllowOrigin = append(p.AllowOrigin, s)
			continue
		}
		p.AllowOriginRegex = append(p.AllowOriginRegex, strings.ReplaceAll(regexp.QuoteMeta(s), `\*`, "[A-Za-z0-9.-]*"))
	}
	for _, m := range c.AllowMethods {
		p.AllowMethods = append(p.AllowMethods, string(m))
	}
	for _, h := range c.AllowHeaders {
		p.AllowHeaders = append(p.AllowHeaders, string(h))
	}
	for _, h := range c.ExposeHeaders {
		p.ExposeHeaders = append(p.ExposeHeaders, string(h))
	}
	if c.MaxAge > 0 {
		p.MaxAge = strconv.Itoa(int(c.MaxAge))
	}
	return p
}
