package translator

import (
	"fmt"
	"sort"

	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// Stage orders HTTP filters by what they do rather than by magic numbers:
// a filter runs after every filter of an earlier stage.
type Stage int

// The stages, in the order requests pass them.
const (
	StageFault Stage = iota
	StageCORS
	// StageCompress compresses responses after every filter behind it
	// (later in the request's order) changed their bodies.
	StageCompress
	StageAuthN
	StageAuthZ
	StageRateLimit
	StageAccepted
	// StageOutAuth signs or authorises the upstream call (Lambda SigV4,
	// Azure function keys) after everything that may still change it.
	StageOutAuth
	StageRoute
)

// httpFilter is one HTTP filter placed at a stage.
type httpFilter struct {
	stage  Stage
	name   string
	config proto.Message
	// disabled filters run only on routes whose per-route config turns
	// them on.
	disabled bool
}

// httpFilters are the listener's HTTP filters: every feature's, ordered
// by stage (features' order breaks ties).
func httpFilters(p *ir.Proxy, l *ir.Listener) ([]*hcmv3.HttpFilter, error) {
	var all []httpFilter
	for _, f := range features {
		if f.filters == nil {
			continue
		}
		fs, err := f.filters(p, l)
		if err != nil {
			return nil, err
		}
		all = append(all, fs...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].stage < all[j].stage })
	out := make([]*hcmv3.HttpFilter, 0, len(all))
	for _, f := range all {
		cfg, err := packAny(f.config)
		if err != nil {
			return nil, fmt.Errorf("http filter %s: %w", f.name, err)
		}
		out = append(out, &hcmv3.HttpFilter{Name: f.name, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: cfg}, Disabled: f.disabled})
	}
	return out, nil
}

// withFilterConfig sets a filter's per-route config (typed_per_filter_config
// of a route or virtual host) in m, made if nil.
func withFilterConfig(m map[string]*anypb.Any, filter string, cfg *anypb.Any) map[string]*anypb.Any {
	if m == nil {
		m = map[string]*anypb.Any{}
	}
	m[filter] = cfg
	return m
}

// withPackedConfig packs cfg and sets it as a filter's per-route config.
func withPackedConfig(m map[string]*anypb.Any, filter string, cfg proto.Message) (map[string]*anypb.Any, error) {
	a, err := packAny(cfg)
	if err != nil {
		return m, err
	}
	return withFilterConfig(m, filter, a), nil
}
