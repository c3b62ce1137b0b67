package translator

import (
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// jwtAuthn is Envoy's JWT authentication filter.
const jwtAuthn = "envoy.filters.http.jwt_authn"

// jwksFetchTimeout bounds a JWKS fetch, as Envoy's http_uri needs one.
const jwksFetchTimeout = 5 * time.Second

// jwtFeature is Envoy's jwt_authn filter, at the authentication stage, on
// listeners with a route that requires tokens: every provider of the
// listener's virtual hosts, and one requirement per such route, which the
// route names in its per-route config.
var jwtFeature = feature{
	name: "jwt",
	filters: func(_ *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		if !anyRoute(l, func(r *ir.Route) bool { return r.JWT != nil && !r.JWT.Disabled }) {
			return nil, nil
		}
		cfg := &jwtv3.JwtAuthentication{Providers: map[string]*jwtv3.JwtProvider{}, RequirementMap: map[string]*jwtv3.JwtRequirement{}}
		for _, vh := range l.VirtualHosts {
			for i := range vh.JWTProviders {
				cfg.Providers[vh.JWTProviders[i].Name] = jwtProvider(&vh.JWTProviders[i])
			}
			for _, r := range vh.Routes {
				if r.JWT != nil && !r.JWT.Disabled {
					cfg.RequirementMap[requirementName(vh, r)] = jwtRequirement(r.JWT)
				}
			}
		}
		return []httpFilter{{stage: StageAuthN, name: jwtAuthn, config: cfg}}, nil
	},
	route: func(out *routev3.Route, r *ir.Route, vh *ir.VirtualHost) (err error) {
		switch {
		case r.JWT == nil:
			return nil
		case r.JWT.Disabled:
			out.TypedPerFilterConfig, err = withPackedConfig(out.TypedPerFilterConfig, jwtAuthn,
				&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_Disabled{Disabled: true}})
		default:
			out.TypedPerFilterConfig, err = withPackedConfig(out.TypedPerFilterConfig, jwtAuthn,
				&jwtv3.PerRouteConfig{RequirementSpecifier: &jwtv3.PerRouteConfig_RequirementName{RequirementName: requirementName(vh, r)}})
		}
		return err
	},
}

// requirementName names a route's requirement, unique in its listener.
func requirementName(vh *ir.VirtualHost, r *ir.Route) string { return vh.Name + "/" + r.Name }

func jwtProvider(p *ir.JWTProvider) *jwtv3.JwtProvider {
	out := &jwtv3.JwtProvider{Issuer: p.Issuer, Audiences: p.Audiences, FromParams: p.FromParams, FromCookies: p.FromCookies,
		Forward: p.Forward, ClockSkewSeconds: p.ClockSkewSeconds}
	if r := p.RemoteJWKS; r != nil {
		out.JwksSourceSpecifier = &jwtv3.JwtProvider_RemoteJwks{RemoteJwks: &jwtv3.RemoteJwks{
			HttpUri: &corev3.HttpUri{Uri: r.URI, HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: r.Cluster},
				Timeout: durationpb.New(jwksFetchTimeout)},
			CacheDuration: durationpb.New(r.CacheDuration.D()),
		}}
	} else {
		out.JwksSourceSpecifier = &jwtv3.JwtProvider_LocalJwks{LocalJwks: inline(p.LocalJWKS)}
	}
	for _, h := range p.FromHeaders {
		out.FromHeaders = append(out.FromHeaders, &jwtv3.JwtHeader{Name: h.Name, ValuePrefix: h.Prefix})
	}
	for _, c := range p.ClaimsToHeaders {
		out.ClaimToHeaders = append(out.ClaimToHeaders, &jwtv3.JwtClaimToHeader{HeaderName: c.Header, ClaimName: c.Claim})
	}
	return out
}

// jwtRequirement is Envoy's form of a route's requirement.
func jwtRequirement(q *ir.JWTRequirement) *jwtv3.JwtRequirement {
	var req *jwtv3.JwtRequirement
	switch {
	case len(q.AllOf) > 0:
		req = &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_RequiresAll{RequiresAll: &jwtv3.JwtRequirementAndList{
			Requirements: providerRequirements(q.AllOf)}}}
	case len(q.AnyOf) == 1:
		req = providerRequirements(q.AnyOf)[0]
	default:
		req = &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_RequiresAny{RequiresAny: &jwtv3.JwtRequirementOrList{
			Requirements: providerRequirements(q.AnyOf)}}}
	}
	var optional *jwtv3.JwtRequirement
	switch {
	case q.AllowMissingOrFailed:
		optional = &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_AllowMissingOrFailed{AllowMissingOrFailed: &emptypb.Empty{}}}
	case q.AllowMissing:
		optional = &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_AllowMissing{AllowMissing: &emptypb.Empty{}}}
	default:
		return req
	}
	return &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_RequiresAny{RequiresAny: &jwtv3.JwtRequirementOrList{
		Requirements: []*jwtv3.JwtRequirement{req, optional}}}}
}

func providerRequirements(names []string) []*jwtv3.JwtRequirement {
	out := make([]*jwtv3.JwtRequirement, len(names))
	for i, n := range names {
		out[i] = &jwtv3.JwtRequirement{RequiresType: &jwtv3.JwtRequirement_ProviderName{ProviderName: n}}
	}
	return out
}
