package translator

import (
	"fmt"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	ratelimitconfv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	commonrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

const (
	localRateLimitFilter = "envoy.filters.http.local_ratelimit"
	rateLimitFilter      = "envoy.filters.http.ratelimit"
	// RateLimitCluster is the cluster of the rate-limit service.
	RateLimitCluster = "gluon_ratelimit"
)

// rateLimitFeature limits requests: local token buckets and global limits
// decided by the rate-limit service, whose cluster it adds.
var rateLimitFeature = feature{
	name: "ratelimit",
	filters: func(p *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		local, err := localRateLimitPlugin(p, l)
		if err != nil {
			return nil, err
		}
		global, err := globalRateLimitPlugin(p, l)
		return append(local, global...), err
	},
	virtualHost: func(v *routev3.VirtualHost, vh *ir.VirtualHost) error {
		return applyVirtualHostRateLimit(v, vh.RateLimit)
	},
	route: func(out *routev3.Route, r *ir.Route, vh *ir.VirtualHost) error {
		return applyRouteRateLimit(out, r.RateLimit, vh.RateLimit)
	},
	clusters: func(p *ir.Proxy) ([]*clusterv3.Cluster, error) {
		svc := p.RateLimitService
		if svc == nil || svc.Address == "" {
			return nil, nil
		}
		c, err := rateLimitServiceCluster(svc)
		if err != nil {
			return nil, err
		}
		return []*clusterv3.Cluster{c}, nil
	},
}

// localRateLimitPlugin adds Envoy's local rate limiter to listeners with a
// token bucket anywhere; the buckets themselves are per-route (or per
// virtual host) configs, so the filter alone limits nothing.
func localRateLimitPlugin(_ *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
	if !anyRateLimit(l, func(r *ir.RateLimit) bool { return r.Local != nil }) {
		return nil, nil
	}
	return []httpFilter{{stage: StageRateLimit, name: localRateLimitFilter, config: &localrlv3.LocalRateLimit{StatPrefix: "local_rate_limit"}}}, nil
}

// globalRateLimitPlugin adds Envoy's rate-limit filter, calling the
// service, to listeners with global limits. It comes after the local
// limiter in the same stage: a request the local bucket refuses never
// costs a call.
func globalRateLimitPlugin(p *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
	if !anyRateLimit(l, func(r *ir.RateLimit) bool { return len(r.Global) > 0 }) {
		return nil, nil
	}
	svc := p.RateLimitService
	if svc == nil || svc.Address == "" {
		return nil, fmt.Errorf("listener %q has global rate limits but the proxy has no rate-limit service", l.Name)
	}
	return []httpFilter{{stage: StageRateLimit, name: rateLimitFilter, config: &ratelimitv3.RateLimit{
		Domain:          svc.Domain,
		Timeout:         durationpb.New(svc.Timeout.D()),
		FailureModeDeny: svc.FailureModeDeny,
		RateLimitService: &ratelimitconfv3.RateLimitServiceConfig{
			GrpcService:         &corev3.GrpcService{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: RateLimitCluster}}},
			TransportApiVersion: corev3.ApiVersion_V3,
		},
		EnableXRatelimitHeaders: ratelimitv3.RateLimit_DRAFT_VERSION_03,
	}}}, nil
}

func anyRateLimit(l *ir.Listener, has func(*ir.RateLimit) bool) bool {
	for _, vh := range l.VirtualHosts {
		if vh.RateLimit != nil && has(vh.RateLimit) {
			return true
		}
		for _, r := range vh.Routes {
			if r.RateLimit != nil && has(r.RateLimit) {
				return true
			}
		}
	}
	return false
}

// rateLimitServiceCluster is the gRPC (HTTP/2) cluster of the service.
func rateLimitServiceCluster(svc *ir.RateLimitService) (*clusterv3.Cluster, error) {
	c, err := cluster(&ir.Cluster{Name: RateLimitCluster, Discovery: ir.DiscoveryStatic, ConnectTimeout: ir.Duration(svc.Timeout.D()),
		Endpoints: []ir.Endpoint{{Host: svc.Address, Port: svc.Port, Weight: 1}}, HTTP2: true})
	if err != nil {
		return nil, err
	}
	if svc.TLS != nil {
		// The service's name (or IP) is what its certificate must carry.
		if c.TransportSocket, err = upstreamTLSFiles(svc.TLS, svc.Address); err != nil {
			return nil, fmt.Errorf("rate-limit cluster: %w", err)
		}
	}
	return c, nil
}

// applyVirtualHostRateLimit sets a virtual host's bucket and actions.
func applyVirtualHostRateLimit(v *routev3.VirtualHost, rl *ir.RateLimit) error {
	if rl == nil {
		return nil
	}
	v.RateLimits = rateLimits(rl.Global)
	cfg, err := localRateLimitConfig(rl.Local)
	if err != nil || cfg == nil {
		return err
	}
	v.TypedPerFilterConfig = withFilterConfig(v.TypedPerFilterConfig, localRateLimitFilter, cfg)
	return nil
}

// applyRouteRateLimit sets a route's bucket and actions. A route with its
// own global limits keeps its virtual host's too, as Gloo does.
func applyRouteRateLimit(out *routev3.Route, rl *ir.RateLimit, vhost *ir.RateLimit) error {
	if rl == nil {
		return nil
	}
	if a := out.GetRoute(); a != nil && len(rl.Global) > 0 {
		a.RateLimits = rateLimits(rl.Global)
		if vhost != nil && len(vhost.Global) > 0 {
			a.IncludeVhRateLimits = wrapperspb.Bool(true)
		}
	}
	cfg, err := localRateLimitConfig(rl.Local)
	if err != nil || cfg == nil {
		return err
	}
	out.TypedPerFilterConfig = withFilterConfig(out.TypedPerFilterConfig, localRateLimitFilter, cfg)
	return nil
}

var always = &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}

func localRateLimitConfig(l *ir.LocalRateLimit) (*anypb.Any, error) {
	if l == nil {
		return nil, nil
	}
	return packAny(&localrlv3.LocalRateLimit{
		StatPrefix: "local_rate_limit",
		TokenBucket: &typev3.TokenBucket{
			MaxTokens:     l.MaxTokens,
			TokensPerFill: wrapperspb.UInt32(l.TokensPerFill),
			FillInterval:  durationpb.New(l.FillInterval.D()),
		},
		FilterEnabled:           always,
		FilterEnforced:          always,
		EnableXRatelimitHeaders: commonrlv3.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03,
	})
}

func rateLimits(in []ir.RateLimitActions) []*routev3.RateLimit {
	out := make([]*routev3.RateLimit, 0, len(in))
	for _, set := range in {
		rl := &routev3.RateLimit{}
		for _, a := range set.Actions {
			rl.Actions = append(rl.Actions, rateLimitAction(a))
		}
		out = append(out, rl)
	}
	return out
}

func rateLimitAction(a ir.RateLimitAction) *routev3.RateLimit_Action {
	switch {
	case a.RemoteAddress:
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{}}}
	case a.RequestHeader != nil:
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{
			HeaderName: a.RequestHeader.Header, DescriptorKey: a.RequestHeader.Key, SkipIfAbsent: a.RequestHeader.SkipIfAbsent}}}
	case a.GenericKey != nil:
		return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{GenericKey: &routev3.RateLimit_Action_GenericKey{
			DescriptorKey: a.GenericKey.Key, DescriptorValue: a.GenericKey.Value}}}
	}
	h := a.HeaderValueMatch
	var headers []*routev3.HeaderMatcher
	for _, m := range h.Headers {
		headers = append(headers, headerMatcher(m))
	}
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_HeaderValueMatch_{HeaderValueMatch: &routev3.RateLimit_Action_HeaderValueMatch{
		DescriptorKey: h.Key, DescriptorValue: h.Value, ExpectMatch: wrapperspb.Bool(h.ExpectMatch), Headers: headers}}}
}
