package controlplane

import (
	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/gateway"
	"github.com/gluon-gateway/gluon/xds/ratelimit"
)

// RateLimitConfigs converts Settings' limits for the service.
func RateLimitConfigs(s *api.Settings) []ratelimit.Config {
	cfg := ratelimit.Config{Domain: gateway.RateLimitDomain}
	if s != nil && s.Spec.Ratelimit != nil {
		cfg.Descriptors = descriptors(s.Spec.Ratelimit.Descriptors)
	}
	return []ratelimit.Config{cfg}
}

func descriptors(in []api.RateLimitDescriptor) []ratelimit.Descriptor {
	out := make([]ratelimit.Descriptor, 0, len(in))
	for _, d := range in {
		rd := ratelimit.Descriptor{Key: d.Key, Value: d.Value, Descriptors: descriptors(d.Descriptors)}
		if d.RateLimit != nil {
			rd.RateLimit = &ratelimit.Limit{Unit: d.RateLimit.Unit, RequestsPerUnit: d.RateLimit.RequestsPerUnit}
		}
		out = append(out, rd)
	}
	return out
}
