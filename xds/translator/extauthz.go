package translator

import (
	"maps"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// extAuthzFilter is Envoy's external authorization filter.
const extAuthzFilter = "envoy.filters.http.ext_authz"

// extAuthzFeature is Envoy's ext_authz filter, at the authorization stage,
// off by default on listeners with a route that asks the service: the
// routes that ask turn it on with their per-route config.
var extAuthzFeature = feature{
	name: "extauthz",
	filters: func(p *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		if p.ExtAuthz == nil || !anyRoute(l, func(r *ir.Route) bool { return r.ExtAuthz != nil }) {
			return nil, nil
		}
		return []httpFilter{{stage: StageAuthZ, name: extAuthzFilter, disabled: true, config: extAuthz(p.ExtAuthz)}}, nil
	},
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) (err error) {
		if r.ExtAuthz == nil {
			return nil
		}
		out.TypedPerFilterConfig, err = withPackedConfig(out.TypedPerFilterConfig, extAuthzFilter, &extauthzv3.ExtAuthzPerRoute{
			Override: &extauthzv3.ExtAuthzPerRoute_CheckSettings{CheckSettings: &extauthzv3.CheckSettings{
				ContextExtensions: r.ExtAuthz.ContextExtensions}}})
		return err
	},
}

func extAuthz(a *ir.ExtAuthz) *extauthzv3.ExtAuthz {
	out := &extauthzv3.ExtAuthz{
		TransportApiVersion: corev3.ApiVersion_V3,
		FailureModeAllow:    a.FailureModeAllow,
		StatusOnError:       &typev3.HttpStatus{Code: typev3.StatusCode(a.StatusOnError)},
	}
	if a.MaxRequestBytes > 0 {
		out.WithRequestBody = &extauthzv3.BufferSettings{MaxRequestBytes: a.MaxRequestBytes, AllowPartialMessage: a.AllowPartialMessage}
	}
	timeout := durationpb.New(a.Timeout.D())
	if a.HTTP == nil {
		out.Services = &extauthzv3.ExtAuthz_GrpcService{GrpcService: &corev3.GrpcService{
			TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: a.Cluster}},
			Timeout:         timeout}}
		return out
	}
	h := a.HTTP
	svc := &extauthzv3.HttpService{
		ServerUri:  &corev3.HttpUri{Uri: h.URI, HttpUpstreamType: &corev3.HttpUri_Cluster{Cluster: a.Cluster}, Timeout: timeout},
		PathPrefix: h.PathPrefix,
	}
	if len(h.HeadersToAdd) > 0 {
		svc.AuthorizationRequest = &extauthzv3.AuthorizationRequest{}
		for _, k := range slices.Sorted(maps.Keys(h.HeadersToAdd)) {
			svc.AuthorizationRequest.HeadersToAdd = append(svc.AuthorizationRequest.HeadersToAdd, &corev3.HeaderValue{Key: k, Value: h.HeadersToAdd[k]})
		}
	}
	if len(h.AllowedUpstreamHeaders)+len(h.AllowedClientHeaders) > 0 {
		svc.AuthorizationResponse = &extauthzv3.AuthorizationResponse{
			AllowedUpstreamHeaders: exactMatchers(h.AllowedUpstreamHeaders),
			AllowedClientHeaders:   exactMatchers(h.AllowedClientHeaders),
		}
	}
	out.Services = &extauthzv3.ExtAuthz_HttpService{HttpService: svc}
	// The client headers the service sees, besides those Envoy always
	// sends (Host, :method, :path, Content-Length, Authorization).
	out.AllowedHeaders = exactMatchers(h.AllowedHeaders)
	return out
}

// exactMatchers matches any of names, case-insensitively (header names);
// nil for none.
func exactMatchers(names []string) *matcherv3.ListStringMatcher {
	if len(names) == 0 {
		return nil
	}
	out := &matcherv3.ListStringMatcher{}
	for _, n := range names {
		out.Patterns = append(out.Patterns, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}, IgnoreCase: true})
	}
	return out
}
