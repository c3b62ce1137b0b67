package gateway

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// Defaults of a JWT provider, as Envoy's.
const (
	defaultJWKSCacheDuration = 5 * time.Minute
	defaultJWTClockSkew      = 60
)

// jwtProviders are a virtual service's JWT providers in the IR, named
// "<virtual host>/<provider>" so that names are unique in a proxy. A
// provider whose JWKS upstream does not exist is an error: its routes must
// not be served unverified.
func (t *translation) jwtProviders(vs *api.VirtualService, vhName string) ([]ir.JWTProvider, error) {
	o := vs.Spec.VirtualHost.Options
	if o == nil || o.JWT == nil {
		return nil, nil
	}
	var out []ir.JWTProvider
	for _, name := range slices.Sorted(maps.Keys(o.JWT.Providers)) {
		p := o.JWT.Providers[name]
		ip := ir.JWTProvider{Name: vhName + "/" + name, Issuer: p.Issuer, Audiences: p.Audiences, Forward: p.KeepToken,
			ClockSkewSeconds: defaultJWTClockSkew}
		if p.ClockSkewSeconds != nil {
			ip.ClockSkewSeconds = *p.ClockSkewSeconds
		}
		if l := p.JWKS.Local; l != nil {
			ip.LocalJWKS = l.Key
		}
		if r := p.JWKS.Remote; r != nil {
			ref := r.UpstreamRef.Ref(vs.Namespace)
			u, ok := t.upstreams[ref]
			if !ok {
				return nil, api.Errorf(api.UpstreamNotFound, fmt.Sprintf("spec.virtualHost.options.jwt.providers[%s].jwks.remote.upstreamRef", name),
					"JWKS upstream %s not found", ref)
			}
			if why, failed := t.jwksFailures[r.URL]; failed {
				return nil, api.Errorf(api.InvalidAuth, fmt.Sprintf("spec.virtualHost.options.jwt.providers[%s].jwks.remote.url", name),
					"JWKS %s %s", r.URL, why)
			}
			ip.RemoteJWKS = &ir.RemoteJWKS{URI: r.URL, Cluster: u.cluster, CacheDuration: ir.Duration(defaultJWKSCacheDuration)}
			if r.CacheDuration != nil {
				ip.RemoteJWKS.CacheDuration = ir.Duration(r.CacheDuration.Duration)
			}
		}
		if s := p.TokenSource; s != nil {
			for _, h := range s.Headers {
				ip.FromHeaders = append(ip.FromHeaders, ir.JWTHeader{Name: h.Header, Prefix: h.Prefix})
			}
			ip.FromParams, ip.FromCookies = s.QueryParams, s.Cookies
		}
		for _, c := range p.ClaimsToHeaders {
			ip.ClaimsToHeaders = append(ip.ClaimsToHeaders, ir.JWTClaimToHeader{Claim: c.Claim, Header: c.Header})
		}
		out = append(out, ip)
	}
	return out, nil
}

// jwtRequirement is what route r of a virtual service requires: its own
// requirement, else its virtual host's (a valid token of any provider).
// A requirement naming a provider the virtual host lacks is an error.
func jwtRequirement(vs *api.VirtualService, vhName string, r *api.Route) (*ir.JWTRequirement, error) {
	var vhJWT *api.JWTConfig
	if o := vs.Spec.VirtualHost.Options; o != nil {
		vhJWT = o.JWT
	}
	var own *api.RouteJWT
	if r.Options != nil {
		own = r.Options.JWT
	}
	switch {
	case own != nil && own.Disable:
		return &ir.JWTRequirement{Disabled: true}, nil
	case vhJWT == nil && own != nil:
		return nil, api.Errorf(api.InvalidAuth, "options.jwt", "the virtual host has no jwt providers")
	case vhJWT == nil:
		return nil, nil
	}
	all := slices.Sorted(maps.Keys(vhJWT.Providers))
	req := &ir.JWTRequirement{AllowMissingOrFailed: vhJWT.AllowMissingOrFailedJWT}
	if own == nil || len(own.RequireAny)+len(own.RequireAll) == 0 {
		req.AnyOf = qualified(vhName, all)
	}
	if own == nil {
		return req, nil
	}
	req.AllowMissing = own.AllowMissing
	for _, name := range append(slices.Clone(own.RequireAny), own.RequireAll...) {
		if _, ok := vhJWT.Providers[name]; !ok {
			return nil, api.Errorf(api.InvalidAuth, "options.jwt", "jwt provider %q is not one of the virtual host's (%v)", name, all)
		}
	}
	if len(own.RequireAny) > 0 {
		req.AnyOf = qualified(vhName, own.RequireAny)
	}
	req.AllOf = qualified(vhName, own.RequireAll)
	return req, nil
}

func qualified(vhName string, providers []string) []string {
	var out []string
	for _, p := range providers {
		out = append(out, vhName+"/"+p)
	}
	return out
}
