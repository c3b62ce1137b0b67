package dataplane

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	ratelimitcommon "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	localRateLimitName = "envoy.filters.http.local_ratelimit"
	localRateLimitType = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
	// localRateLimitedBody is the body of Envoy's local reply.
	localRateLimitedBody = "local_rate_limited"
	// minFillInterval is Envoy's lower bound on fill_interval.
	minFillInterval = 50 * time.Millisecond
)

func localRateLimitFilterDef(store *bucketStore) httpFilterDef {
	return httpFilterDef{
		name: localRateLimitName, typeURL: localRateLimitType,
		compile: func(name string, cfg *anypb.Any) (httpFilter, error) {
			return compileLocalRateLimitFilter(name, cfg, store)
		},
		perRouteType:    localRateLimitType,
		compilePerRoute: compileLocalRateLimitRoute,
	}
}

// compileLocalRateLimitFilter accepts the listener-level config Gluon emits:
// a stat_prefix and nothing else. Without filter_enabled Envoy's filter lets
// every request through unless a route or virtual host configures it; a
// listener-wide bucket is not supported.
func compileLocalRateLimitFilter(name string, cfg *anypb.Any, store *bucketStore) (httpFilter, error) {
	if cfg == nil {
		return nil, errors.New("typed_config is required")
	}
	c := &localrlv3.LocalRateLimit{}
	if err := decodeAny(cfg, c); err != nil {
		return nil, err
	}
	if err := onlyFields(c, "stat_prefix"); err != nil {
		return nil, fmt.Errorf("%w (buckets are configured per route or virtual host in typed_per_filter_config)", err)
	}
	return &localRateLimitFilter{name: name, store: store}, nil
}

// localRateLimitConfig is a compiled per-route LocalRateLimit.
type localRateLimitConfig struct {
	bucket         bucketSettings
	status         int
	enabled        percent
	enforced       percent
	respHeaders    *headerMutation // on the local reply
	reqHeaders     *headerMutation // request_headers_to_add_when_not_enforced
	xRateLimitHdrs bool
}

func compileLocalRateLimitRoute(a *anypb.Any) (any, error) {
	c := &localrlv3.LocalRateLimit{}
	if err := decodeAny(a, c); err != nil {
		return nil, err
	}
	if err := onlyFields(c, "stat_prefix", "status", "token_bucket", "filter_enabled", "filter_enforced",
		"request_headers_to_add_when_not_enforced", "response_headers_to_add", "enable_x_ratelimit_headers"); err != nil {
		return nil, err
	}
	tb := c.GetTokenBucket()
	if tb == nil {
		return nil, errors.New("local rate limit token bucket must be set for per filter configs")
	}
	if err := onlyFields(tb, "max_tokens", "tokens_per_fill", "fill_interval"); err != nil {
		return nil, err
	}
	interval, err := duration(tb.GetFillInterval())
	if err != nil {
		return nil, fmt.Errorf("fill_interval: %w", err)
	}
	if interval < minFillInterval {
		return nil, errors.New("local rate limit token bucket fill timer must be >= 50ms")
	}
	lc := &localRateLimitConfig{
		bucket: bucketSettings{maxTokens: tb.GetMaxTokens(), tokensPerFill: 1, fillInterval: interval},
		status: http.StatusTooManyRequests,
		// DRAFT_VERSION_03 is the only version besides OFF.
		xRateLimitHdrs: c.GetEnableXRatelimitHeaders() == ratelimitcommon.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03,
	}
	if tb.GetTokensPerFill() != nil {
		lc.bucket.tokensPerFill = tb.GetTokensPerFill().GetValue()
	}
	if code := int(c.GetStatus().GetCode()); code >= 400 { // Envoy answers 429 for lower codes
		lc.status = code
	}
	if lc.enabled, err = compilePercent(c.GetFilterEnabled()); err != nil {
		return nil, fmt.Errorf("filter_enabled: %w", err)
	}
	if lc.enforced, err = compilePercent(c.GetFilterEnforced()); err != nil {
		return nil, fmt.Errorf("filter_enforced: %w", err)
	}
	if lc.respHeaders, err = compileHeaderMutation(c.GetResponseHeadersToAdd(), nil); err != nil {
		return nil, fmt.Errorf("response_headers_to_add: %w", err)
	}
	if lc.reqHeaders, err = compileHeaderMutation(c.GetRequestHeadersToAddWhenNotEnforced(), nil); err != nil {
		return nil, fmt.Errorf("request_headers_to_add_when_not_enforced: %w", err)
	}
	return lc, nil
}

// percent is a RuntimeFractionalPercent's default value: the data plane has
// no runtime, so the runtime key never overrides it. Absent means 0%, which
// is Envoy's default for filter_enabled and filter_enforced.
type percent struct{ num, den uint64 }

func compilePercent(p *core.RuntimeFractionalPercent) (percent, error) {
	if p == nil {
		return percent{num: 0, den: 100}, nil
	}
	if err := onlyFields(p, "default_value", "runtime_key"); err != nil {
		return percent{}, err
	}
	if p.GetDefaultValue() == nil {
		return percent{num: 0, den: 100}, nil
	}
	return fraction(p.GetDefaultValue())
}

// fraction reads a FractionalPercent.
func fraction(fp *typev3.FractionalPercent) (percent, error) {
	if err := onlyFields(fp, "numerator", "denominator"); err != nil {
		return percent{}, err
	}
	den := map[typev3.FractionalPercent_DenominatorType]uint64{
		typev3.FractionalPercent_HUNDRED: 100, typev3.FractionalPercent_TEN_THOUSAND: 10_000, typev3.FractionalPercent_MILLION: 1_000_000,
	}[fp.GetDenominator()]
	if den == 0 {
		return percent{}, fmt.Errorf("unknown denominator %v", fp.GetDenominator())
	}
	return percent{num: uint64(fp.GetNumerator()), den: den}, nil
}

// sample draws whether this request falls within the percentage.
func (p percent) sample() bool {
	return p.num >= p.den || p.num > 0 && rand.Uint64N(p.den) < p.num
}

// localRateLimitFilter is envoy.filters.http.local_ratelimit on one listener.
type localRateLimitFilter struct {
	name  string // per-route configs are found under the filter's name
	store *bucketStore
}

// localLimiter is a per-route config with its bucket.
type localLimiter struct {
	cfg    *localRateLimitConfig
	bucket *tokenBucket
}

// withRoutes resolves each route's most specific config, as Envoy does.
// Every config object has its own bucket: a virtual host's (or the table's)
// is shared by the routes without a config of their own.
func (f *localRateLimitFilter) withRoutes(rt *routeTable) (middleware, error) {
	limiters := make([]*localLimiter, rt.nroutes)
	made := map[*filterRouteConfig]*localLimiter{}
	for _, vh := range rt.vhosts {
		for i, cr := range vh.routes {
			c := cr.plugins[f.name]
			if c == nil {
				continue
			}
			if l, ok := made[c]; ok {
				limiters[cr.idx] = l
				continue
			}
			cfg, ok := c.native.(*localRateLimitConfig)
			if !ok {
				return nil, fmt.Errorf("virtual host %q: route %d (%q): typed_per_filter_config %q is not a LocalRateLimit", vh.name, i, cr.name, f.name)
			}
			k := bucketKey{table: rt.name, settings: cfg.bucket}
			switch c {
			case rt.plugins[f.name]:
			case vh.plugins[f.name]:
				k.vhost = vh.name
			default:
				k.vhost, k.route = vh.name, bucketRouteName(cr.name, i)
			}
			l := &localLimiter{cfg: cfg, bucket: f.store.bucket(k)}
			made[c], limiters[cr.idx] = l, l
		}
	}
	return func(next handler, _ map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			var l *localLimiter
			if m.route != nil {
				l = limiters[m.route.idx]
			}
			if l == nil || !l.cfg.enabled.sample() {
				next(w, r, m)
				return
			}
			allowed := l.bucket.take()
			if l.cfg.xRateLimitHdrs {
				// Envoy adds them as the response headers are encoded,
				// local replies included, from the bucket as it is then.
				w = &encodeHeadersWriter{ResponseWriter: w, before: l.addXRateLimitHeaders}
			}
			switch {
			case allowed:
				next(w, r, m)
			case !l.cfg.enforced.sample():
				l.cfg.reqHeaders.apply(r.Header)
				next(w, r, m)
			default:
				l.cfg.respHeaders.apply(w.Header())
				m.stats.limited()
				m.flags = "RL"
				localReply(w, l.cfg.status, localRateLimitedBody)
			}
		}
	}, nil
}

func (l *localLimiter) addXRateLimitHeaders(h http.Header) {
	addXRateLimit(h, strconv.FormatUint(uint64(l.cfg.bucket.maxTokens), 10), l.bucket.remaining(), l.bucket.resetSeconds())
}

// bucketRouteName names a route for its bucket key: by name, else by position.
func bucketRouteName(name string, i int) string {
	if name != "" {
		return name
	}
	return "#" + strconv.Itoa(i)
}
