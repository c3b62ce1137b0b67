package api

import (
	"regexp"
	"strconv"
	"strings"
)

// CorsPolicy is Gloo's CORS policy, on a virtual host (every route) or a
// route (which then uses its own). The gateway answers preflights from an
// allowed origin itself; other requests from one get the
// Access-Control-Allow-Origin and -Expose-Headers headers on their response.
type CorsPolicy struct {
	// AllowOrigin lists origins allowed exactly ("*" allows any);
	// AllowOriginRegex, RE2 patterns an origin must match whole.
	AllowOrigin      []string `json:"allowOrigin,omitempty"`
	AllowOriginRegex []string `json:"allowOriginRegex,omitempty"`
	AllowMethods     []string `json:"allowMethods,omitempty"`
	AllowHeaders     []string `json:"allowHeaders,omitempty"`
	ExposeHeaders    []string `json:"exposeHeaders,omitempty"`
	// MaxAge is how long, in seconds, a preflight answer may be cached.
	MaxAge           string `json:"maxAge,omitempty"`
	AllowCredentials bool   `json:"allowCredentials,omitempty"`
	// DisableForRoute, on a route, turns CORS off for it.
	DisableForRoute bool `json:"disableForRoute,omitempty"`
}

func validateCors(f *fieldErrors, path string, c *CorsPolicy, onRoute bool) {
	if c == nil {
		return
	}
	if c.DisableForRoute && !onRoute {
		f.add(path+".disableForRoute", "is for routes; leave the virtual host's cors out instead")
	}
	if !c.DisableForRoute && len(c.AllowOrigin) == 0 && len(c.AllowOriginRegex) == 0 {
		f.add(path, "allows no origin: set allowOrigin or allowOriginRegex")
	}
	for i, o := range c.AllowOrigin {
		if o == "" || strings.ContainsAny(o, " \t\r\n,") {
			f.add(idx(path+".allowOrigin", i), "%q is not an origin", o)
		}
	}
	for i, re := range c.AllowOriginRegex {
		validateRegex(f, idx(path+".allowOriginRegex", i), re)
	}
	for field, list := range map[string][]string{"allowMethods": c.AllowMethods, "allowHeaders": c.AllowHeaders, "exposeHeaders": c.ExposeHeaders} {
		for i, v := range list {
			if !corsToken.MatchString(v) {
				f.add(idx(path+"."+field, i), "%q is not a method or header name", v)
			}
		}
	}
	if c.MaxAge != "" {
		if n, err := strconv.ParseUint(c.MaxAge, 10, 32); err != nil || n == 0 && c.MaxAge != "0" {
			f.add(path+".maxAge", "%q is not a number of seconds", c.MaxAge)
		}
	}
}

// corsToken is an HTTP token (RFC 9110 §5.6.2), or "*".
var corsToken = regexp.MustCompile("^(\\*|[!#$%&'*+.^_`|~0-9A-Za-z-]+)$")
