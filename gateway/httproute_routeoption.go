package gateway

import (
	"fmt"
	"maps"
	"slices"

	"github.com/gluon-gateway/gluon/api"
)

// routeOptionKind is the ExtensionRef kind (group gluon.dev) that gives a
// rule a RouteOption's policies: who may call it, and how often.
const routeOptionKind = "RouteOption"

// routeOption finds the RouteOption an ExtensionRef of route rs names, in
// the route's namespace, and checks its JWT providers here: a generated
// virtual service holds every route of a hostname, so a provider that
// cannot be built must fail its rules (500) rather than the hostname.
func (c *gatewayAPI) routeOption(rs *routeState, name string) (*api.RouteOption, string) {
	ref := api.ResourceRef{Namespace: rs.key.Namespace, Name: name}
	ro, ok := c.routeOptions[ref]
	if !ok {
		return nil, fmt.Sprintf("ExtensionRef: RouteOption %s not found", ref)
	}
	for _, p := range slices.Sorted(maps.Keys(ro.Spec.JWTProviders)) {
		r := ro.Spec.JWTProviders[p].JWKS.Remote
		if r == nil {
			continue
		}
		up := r.UpstreamRef.Ref(ro.Namespace)
		if _, ok := c.userUpstreams[up]; !ok {
			return nil, fmt.Sprintf("RouteOption %s: jwt provider %s: JWKS upstream %s not found", ref, p, up)
		}
		if why, failed := c.jwksFailures[r.URL]; failed {
			return nil, fmt.Sprintf("RouteOption %s: jwt provider %s: JWKS %s %s", ref, p, r.URL, why)
		}
	}
	return ro, ""
}

// withRouteOption is a rule's options with a RouteOption's policies. The
// generated virtual service lives in the Gateway's namespace, so every
// reference the policies hold is resolved in the RouteOption's own, and
// Secrets chosen by label are named. Its JWT providers are registered for
// the virtual services under names unique in the conversion.
func (c *gatewayAPI) withRouteOption(options *api.RouteOptions, ro *api.RouteOption) *api.RouteOptions {
	out := &api.RouteOptions{}
	if options != nil {
		out = new(*options)
	}
	p := ro.Spec.Options
	out.Extauth, out.Ratelimit, out.LocalRatelimit = p.Extauth, p.Ratelimit, p.LocalRatelimit
	if a := p.APIKeyAuth; a != nil {
		out.APIKeyAuth = new(*a)
		out.APIKeyAuth.LabelSelector = nil
		out.APIKeyAuth.APIKeySecretRefs = c.apiKeySecretRefs(ro.Namespace, a)
	}
	if b := p.BasicAuth; b != nil {
		out.BasicAuth = new(*b)
		if b.SecretRef != nil {
			out.BasicAuth.SecretRef = new(b.SecretRef.Ref(ro.Namespace))
		}
	}
	out.JWT = c.routeOptionJWT(ro)
	return out
}

// apiKeySecretRefs are the apiKey Secrets a names or selects, in ns.
func (c *gatewayAPI) apiKeySecretRefs(ns string, a *api.APIKeyAuth) []api.ResourceRef {
	var out []api.ResourceRef
	for _, ref := range a.APIKeySecretRefs {
		out = append(out, ref.Ref(ns))
	}
	if len(a.LabelSelector) == 0 {
		return out
	}
	for _, s := range c.secrets {
		if selectsAPIKey(a, ns, s) {
			out = append(out, api.ResourceRef{Namespace: s.Namespace, Name: s.Name})
		}
	}
	return out
}

// routeOptionJWT is the token requirement of ro's rules, naming its
// providers by their conversion-wide names; nil when it has none.
func (c *gatewayAPI) routeOptionJWT(ro *api.RouteOption) *api.RouteJWT {
	own := ro.Spec.Options.JWT
	if own != nil && own.Disable {
		return &api.RouteJWT{Disable: true}
	}
	if len(ro.Spec.JWTProviders) == 0 {
		return nil
	}
	qualify := func(names []string) []string {
		var out []string
		for _, n := range names {
			key := ro.Namespace + "/" + ro.Name + "/" + n
			p := ro.Spec.JWTProviders[n]
			if r := p.JWKS.Remote; r != nil {
				p.JWKS.Remote = new(*r)
				p.JWKS.Remote.UpstreamRef = r.UpstreamRef.Ref(ro.Namespace)
			}
			c.gen.jwtProviders[key] = p
			out = append(out, key)
		}
		return out
	}
	if own == nil || len(own.RequireAny)+len(own.RequireAll) == 0 {
		req := &api.RouteJWT{RequireAny: qualify(slices.Sorted(maps.Keys(ro.Spec.JWTProviders)))}
		if own != nil {
			req.AllowMissing = own.AllowMissing
		}
		return req
	}
	return &api.RouteJWT{RequireAny: qualify(own.RequireAny), RequireAll: qualify(own.RequireAll), AllowMissing: own.AllowMissing}
}

// withJWTProviders gives a generated virtual service the JWT providers its
// routes require, and every other route of it no requirement: a virtual
// host's providers would otherwise be required on all its routes.
func (c *gatewayAPI) withJWTProviders(vs *api.VirtualService) {
	providers := map[string]api.JWTProvider{}
	for _, r := range vs.Spec.VirtualHost.Routes {
		if r.Options != nil && r.Options.JWT != nil {
			for _, name := range slices.Concat(r.Options.JWT.RequireAny, r.Options.JWT.RequireAll) {
				providers[name] = c.gen.jwtProviders[name]
			}
		}
	}
	if len(providers) == 0 {
		return
	}
	vs.Spec.VirtualHost.Options = &api.VirtualHostOptions{JWT: &api.JWTConfig{Providers: providers}}
	for i := range vs.Spec.VirtualHost.Routes {
		r := &vs.Spec.VirtualHost.Routes[i]
		if r.Options != nil && r.Options.JWT != nil {
			continue
		}
		o := &api.RouteOptions{}
		if r.Options != nil {
			o = new(*r.Options)
		}
		o.JWT = &api.RouteJWT{Disable: true}
		r.Options = o
	}
}
