package dataplane

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	jwtAuthnName     = "envoy.filters.http.jwt_authn"
	jwtAuthnType     = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication"
	jwtPerRouteType  = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig"
	maxJWTReqNesting = 8
)

// jwtAuthnFilterDef is Envoy's JWT authentication filter: providers and
// named requirements on the listener, a route names its requirement (or
// turns the filter off) in its per-route config.
func jwtAuthnFilterDef() httpFilterDef {
	return httpFilterDef{name: jwtAuthnName, typeURL: jwtAuthnType, compile: compileJWTAuthn,
		perRouteType: jwtPerRouteType, compilePerRoute: compileJWTPerRoute}
}

type jwtAuthnFilter struct {
	name         string
	requirements map[string]*jwtRequirement
}

// jwtRequirement is a compiled JwtRequirement: a provider, any or all of
// sub-requirements, or a token that may be missing (or fail).
type jwtRequirement struct {
	provider             *jwtProvider
	any, all             []*jwtRequirement
	allowMissing         bool
	allowMissingOrFailed bool
}

// jwtRouteConfig is a route's PerRouteConfig.
type jwtRouteConfig struct {
	disabled    bool
	requirement string
}

func compileJWTAuthn(name string, cfg *anypb.Any) (httpFilter, error) {
	c := &jwtv3.JwtAuthentication{}
	if err := decodeAny(cfg, c); err != nil {
		return nil, err
	}
	if err := onlyFields(c, "providers", "requirement_map"); err != nil {
		return nil, err
	}
	providers := map[string]*jwtProvider{}
	for _, pn := range slices.Sorted(maps.Keys(c.GetProviders())) {
		p, err := compileJWTProvider(pn, c.GetProviders()[pn])
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", pn, err)
		}
		providers[pn] = p
	}
	f := &jwtAuthnFilter{name: name, requirements: map[string]*jwtRequirement{}}
	for _, rn := range slices.Sorted(maps.Keys(c.GetRequirementMap())) {
		req, err := compileJWTRequirement(c.GetRequirementMap()[rn], providers, 0)
		if err != nil {
			return nil, fmt.Errorf("requirement %q: %w", rn, err)
		}
		f.requirements[rn] = req
	}
	return f, nil
}

func compileJWTRequirement(r *jwtv3.JwtRequirement, providers map[string]*jwtProvider, depth int) (*jwtRequirement, error) {
	if depth > maxJWTReqNesting {
		return nil, errors.New("requirements nest too deep")
	}
	list := func(rs []*jwtv3.JwtRequirement) ([]*jwtRequirement, error) {
		var out []*jwtRequirement
		for _, sub := range rs {
			c, err := compileJWTRequirement(sub, providers, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	}
	var err error
	out := &jwtRequirement{}
	switch t := r.GetRequiresType().(type) {
	case *jwtv3.JwtRequirement_ProviderName:
		if out.provider = providers[t.ProviderName]; out.provider == nil {
			return nil, fmt.Errorf("provider %q is not configured", t.ProviderName)
		}
	case *jwtv3.JwtRequirement_RequiresAny:
		out.any, err = list(t.RequiresAny.GetRequirements())
	case *jwtv3.JwtRequirement_RequiresAll:
		out.all, err = list(t.RequiresAll.GetRequirements())
	case *jwtv3.JwtRequirement_AllowMissing:
		out.allowMissing = true
	case *jwtv3.JwtRequirement_AllowMissingOrFailed:
		out.allowMissingOrFailed = true
	default:
		return nil, fmt.Errorf("requirement %T is not supported", t)
	}
	return out, err
}

func compileJWTPerRoute(a *anypb.Any) (any, error) {
	c := &jwtv3.PerRouteConfig{}
	if err := decodeAny(a, c); err != nil {
		return nil, err
	}
	return &jwtRouteConfig{disabled: c.GetDisabled(), requirement: c.GetRequirementName()}, nil
}

func (f *jwtAuthnFilter) withRoutes(rt *routeTable) (middleware, error) {
	configs, err := nativeRouteConfigs[*jwtRouteConfig](rt, f.name, "PerRouteConfig")
	if err != nil {
		return nil, err
	}
	reqs := make([]*jwtRequirement, len(configs))
	for i, c := range configs {
		if c == nil || c.disabled {
			continue
		}
		if reqs[i] = f.requirements[c.requirement]; reqs[i] == nil {
			return nil, fmt.Errorf("a route names requirement %q, which %s does not have", c.requirement, f.name)
		}
	}
	return func(next handler, clusters map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			if m.route == nil || reqs[m.route.idx] == nil {
				next(w, r, m)
				return
			}
			v := &jwtVerification{r: r, clusters: clusters, results: map[*jwtProvider]error{}}
			if err := v.check(reqs[m.route.idx]); err != nil {
				jwtDenied(w, r, err)
				return
			}
			v.apply()
			next(w, r, m)
		}
	}, nil
}

// jwtVerification is one request's pass through a requirement: each
// provider's token is verified once, whatever the tree names it.
type jwtVerification struct {
	r        *http.Request
	clusters map[string]*upstreamCluster
	results  map[*jwtProvider]error
	verified []verifiedJWT
	anyToken bool
}

type verifiedJWT struct {
	p      *jwtProvider
	claims map[string]any
	header string // where the token was, when in a header
}

// check evaluates a requirement: nil when it is met, else why not.
func (v *jwtVerification) check(q *jwtRequirement) error {
	switch {
	case q.provider != nil:
		return v.provider(q.provider)
	case q.allowMissingOrFailed:
		return nil
	case q.allowMissing:
		if v.anyToken {
			return errJWTSignature // a token is there, and it failed
		}
		return nil
	case q.all != nil:
		for _, sub := range q.all {
			if err := v.check(sub); err != nil {
				return err
			}
		}
		return nil
	}
	// Any: the first met; else the most telling failure, a bad token over
	// a missing one.
	var failed error = errJWTMissing
	for _, sub := range q.any {
		err := v.check(sub)
		if err == nil {
			return nil
		}
		if err != errJWTMissing && failed == errJWTMissing {
			failed = err
		}
	}
	return failed
}

// provider verifies the provider's token, once per request.
func (v *jwtVerification) provider(p *jwtProvider) error {
	if err, done := v.results[p]; done {
		return err
	}
	tok, header := p.token(v.r)
	var err error
	if tok == "" {
		err = errJWTMissing
	} else {
		v.anyToken = true
		var claims map[string]any
		if claims, err = p.verify(v.r.Context(), tok, v.clusters); err == nil {
			v.verified = append(v.verified, verifiedJWT{p: p, claims: claims, header: header})
		}
	}
	v.results[p] = err
	return err
}

// apply does what verified tokens ask of the request: claims copied to
// headers, tokens not forwarded removed.
func (v *jwtVerification) apply() {
	for _, t := range v.verified {
		t.p.claimHeaders(v.r.Header, t.claims)
		if !t.p.forward && t.header != "" {
			v.r.Header.Del(t.header)
		}
	}
}

// jwtDenied answers as Envoy does: the status and message of the failure,
// with a Bearer challenge naming the resource.
func jwtDenied(w http.ResponseWriter, r *http.Request, err error) {
	je := &jwtError{http.StatusUnauthorized, err.Error()}
	errors.As(err, &je)
	challenge := `Bearer realm="` + resourceURL(r) + `"`
	if je != errJWTMissing {
		challenge += `, error="invalid_token"`
	}
	w.Header()["Www-Authenticate"] = []string{challenge}
	localReply(w, je.status, je.msg)
}
