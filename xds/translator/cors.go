package translator

import (
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// corsFeature is Envoy's CORS filter, at the CORS stage, on listeners with
// a policy anywhere; the policies are per virtual host and route (the most
// specific wins), so the filter alone does nothing.
var corsFeature = feature{
	name: "cors",
	filters: func(_ *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		if !anyCORS(l) {
			return nil, nil
		}
		return []httpFilter{{stage: StageCORS, name: wellknown.CORS, config: &corsv3.Cors{}}}, nil
	},
	virtualHost: func(v *routev3.VirtualHost, vh *ir.VirtualHost) (err error) {
		v.TypedPerFilterConfig, err = withCORS(v.TypedPerFilterConfig, vh.CORS)
		return err
	},
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) (err error) {
		out.TypedPerFilterConfig, err = withCORS(out.TypedPerFilterConfig, r.CORS)
		return err
	},
}

// withCORS adds policy c, if any, to a per-filter config map.
func withCORS(m map[string]*anypb.Any, c *ir.CORS) (map[string]*anypb.Any, error) {
	if c == nil {
		return m, nil
	}
	return withPackedConfig(m, wellknown.CORS, corsPolicy(c))
}

func anyCORS(l *ir.Listener) bool {
	for _, vh := range l.VirtualHosts {
		if vh.CORS != nil {
			return true
		}
		for _, r := range vh.Routes {
			if r.CORS != nil {
				return true
			}
		}
	}
	return false
}

// corsPolicy is Envoy's form of a policy; a disabled one is enabled for 0%
// of requests.
func corsPolicy(c *ir.CORS) *corsv3.CorsPolicy {
	if c.Disabled {
		return &corsv3.CorsPolicy{FilterEnabled: &corev3.RuntimeFractionalPercent{
			DefaultValue: &typev3.FractionalPercent{Numerator: 0, Denominator: typev3.FractionalPercent_HUNDRED}}}
	}
	p := &corsv3.CorsPolicy{
		AllowMethods:  strings.Join(c.AllowMethods, ","),
		AllowHeaders:  strings.Join(c.AllowHeaders, ","),
		ExposeHeaders: strings.Join(c.ExposeHeaders, ","),
		MaxAge:        c.MaxAge,
	}
	for _, o := range c.AllowOrigins {
		p.AllowOriginStringMatch = append(p.AllowOriginStringMatch, &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: o}})
	}
	for _, re := range c.AllowOriginRegexes {
		p.AllowOriginStringMatch = append(p.AllowOriginStringMatch, &matcherv3.StringMatcher{
			MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: re}}})
	}
	if c.AllowCredentials {
		p.AllowCredentials = wrapperspb.Bool(true)
	}
	return p
}
