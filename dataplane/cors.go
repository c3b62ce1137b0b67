package dataplane

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	corsType       = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"
	corsPolicyType = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy"
)

// corsFilterDef is Envoy's CORS filter: the policies are per route, virtual
// host or route configuration (the most specific wins).
func corsFilterDef() httpFilterDef {
	return httpFilterDef{
		name: wellknown.CORS, typeURL: corsType,
		compile: func(name string, cfg *anypb.Any) (httpFilter, error) {
			if err := emptyListenerConfig(cfg, &corsv3.Cors{}, "policies are configured per route or virtual host"); err != nil {
				return nil, err
			}
			return &corsFilter{name: name}, nil
		},
		perRouteType:    corsPolicyType,
		compilePerRoute: compileCorsPolicy,
	}
}

// corsPolicy is a compiled CorsPolicy: the response header values are
// ready to set.
type corsPolicy struct {
	origins       []*stringMatcher
	methods       []string
	headers       []string
	exposeHeaders []string
	maxAge        []string
	credentials   bool
	enabled       percent
}

func compileCorsPolicy(a *anypb.Any) (any, error) {
	c := &corsv3.CorsPolicy{}
	if err := decodeAny(a, c); err != nil {
		return nil, err
	}
	if err := onlyFields(c, "allow_origin_string_match", "allow_methods", "allow_headers", "expose_headers",
		"max_age", "allow_credentials", "filter_enabled"); err != nil {
		return nil, err
	}
	p := &corsPolicy{credentials: c.GetAllowCredentials().GetValue(), enabled: percent{num: 1, den: 1}}
	for i, sm := range c.GetAllowOriginStringMatch() {
		m, err := compileStringMatcher(sm)
		if err != nil {
			return nil, fmt.Errorf("allow_origin_string_match[%d]: %w", i, err)
		}
		p.origins = append(p.origins, m)
	}
	if c.GetMaxAge() != "" {
		if _, err := strconv.ParseUint(c.GetMaxAge(), 10, 64); err != nil {
			return nil, errors.New("max_age must be a number of seconds")
		}
	}
	p.methods, p.headers, p.exposeHeaders, p.maxAge = headerValue(c.GetAllowMethods()), headerValue(c.GetAllowHeaders()),
		headerValue(c.GetExposeHeaders()), headerValue(c.GetMaxAge())
	if c.GetFilterEnabled() != nil {
		var err error
		if p.enabled, err = compilePercent(c.GetFilterEnabled()); err != nil {
			return nil, fmt.Errorf("filter_enabled: %w", err)
		}
	}
	return p, nil
}

// headerValue is a header's value, nil for none.
func headerValue(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}

// allows says whether origin is allowed: a matcher that matches it, or one
// that matches "*", as in Envoy.
func (p *corsPolicy) allows(origin string) bool {
	for _, m := range p.origins {
		if m.match(origin) || m.match("*") {
			return true
		}
	}
	return false
}

// corsFilter is envoy.filters.http.cors on one listener.
type corsFilter struct{ name string }

func (f *corsFilter) withRoutes(rt *routeTable) (middleware, error) {
	policies, err := nativeRouteConfigs[*corsPolicy](rt, f.name, "CorsPolicy")
	if err != nil {
		return nil, err
	}
	return func(next handler, _ map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			var p *corsPolicy
			if m.route != nil {
				p = policies[m.route.idx]
			}
			origin := r.Header.Get("Origin")
			if p == nil || origin == "" || !p.enabled.sample() || !p.allows(origin) {
				next(w, r, m)
				return
			}
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				// A preflight: answered here, as Envoy does.
				h := w.Header()
				p.allowOrigin(h, origin)
				setIfAny(h, "Access-Control-Allow-Methods", p.methods)
				setIfAny(h, "Access-Control-Allow-Headers", p.headers)
				setIfAny(h, "Access-Control-Max-Age", p.maxAge)
				w.WriteHeader(http.StatusOK)
				return
			}
			// On the response as it is written, over the upstream's own, as
			// Envoy's encodeHeaders does.
			next(&encodeHeadersWriter{ResponseWriter: w, before: func(h http.Header) {
				p.allowOrigin(h, origin)
				setIfAny(h, "Access-Control-Expose-Headers", p.exposeHeaders)
			}}, r, m)
		}
	}, nil
}

// allowOrigin sets the headers that let origin read the response.
func (p *corsPolicy) allowOrigin(h http.Header, origin string) {
	h["Access-Control-Allow-Origin"] = []string{origin}
	if p.credentials {
		h["Access-Control-Allow-Credentials"] = []string{"true"}
	}
}

func setIfAny(h http.Header, name string, v []string) {
	if v != nil {
		h[name] = v
	}
}
