package dataplane

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// defaultRouteTimeout is Envoy's route timeout when none is configured.
const defaultRouteTimeout = 15 * time.Second

type weightedCluster struct {
	name   string
	weight uint32
}

// forwardAction is a compiled RouteAction: where to send the request and how
// to rewrite it on the way.
type forwardAction struct {
	cluster         string
	weighted        []weightedCluster
	totalWeight     uint32
	notFoundStatus  int
	hasPrefixRW     bool
	prefixRewrite   string
	regexRewrite    *regexp.Regexp
	regexSubst      string
	hostRewrite     string
	autoHostRewrite bool
	timeout         time.Duration // 0: none
	retry           *retryPolicy
	// rateLimits are the route's rate_limits; the virtual host's apply too
	// when includeVHRateLimits, or when the route has none (Envoy's default).
	rateLimits          []*rateLimitPolicy
	includeVHRateLimits bool
	// mirrors get copies of a share of the requests (request_mirror_policies).
	mirrors []mirrorPolicy
	// hashPolicies feed ring hash and maglev clusters.
	hashPolicies []hashPolicy
	// webSockets overrides the listener's WebSocket setting; nil keeps it.
	webSockets *bool
	// idleTimeout replaces the listener's stream idle timeout (0: keep it).
	idleTimeout time.Duration
	// grpcTimeout, when set, lets a request's grpc-timeout header replace
	// the route timeout.
	grpcTimeout *grpcTimeoutPolicy
}

// pickCluster returns the target cluster, choosing among weighted clusters
// at random in proportion to their weights, per request.
func (a *forwardAction) pickCluster() string {
	if a.weighted == nil {
		return a.cluster
	}
	return pickWeighted(a.weighted, a.totalWeight)
}

// pickWeighted draws one of clusters at random in proportion to their
// weights, which add up to total (positive).
func pickWeighted(clusters []weightedCluster, total uint32) string {
	n := rand.Uint32N(total)
	for _, wc := range clusters {
		if n < wc.weight {
			return wc.name
		}
		n -= wc.weight
	}
	return clusters[len(clusters)-1].name
}

func compileForwardAction(ra *route.RouteAction, pm *pathMatcher) (*forwardAction, error) {
	if err := onlyFields(ra, "cluster", "weighted_clusters", "cluster_not_found_response_code", "prefix_rewrite",
		"regex_rewrite", "host_rewrite_literal", "auto_host_rewrite", "timeout", "retry_policy",
		"rate_limits", "include_vh_rate_limits", "request_mirror_policies", "hash_policy", "upgrade_configs", "idle_timeout",
		"max_stream_duration"); err != nil {
		return nil, err
	}
	a := &forwardAction{timeout: defaultRouteTimeout, includeVHRateLimits: ra.GetIncludeVhRateLimits().GetValue()}
	var err error
	if a.rateLimits, err = compileRateLimits(ra.GetRateLimits()); err != nil {
		return nil, err
	}
	if a.mirrors, err = compileMirrorPolicies(ra.GetRequestMirrorPolicies()); err != nil {
		return nil, err
	}
	if a.hashPolicies, err = compileHashPolicies(ra.GetHashPolicy()); err != nil {
		return nil, err
	}
	if a.webSockets, err = compileRouteUpgrades(ra.GetUpgradeConfigs()); err != nil {
		return nil, err
	}
	if a.grpcTimeout, err = compileMaxStreamDuration(ra.GetMaxStreamDuration()); err != nil {
		return nil, fmt.Errorf("max_stream_duration: %w", err)
	}
	if t := ra.GetIdleTimeout(); t != nil {
		if a.idleTimeout, err = duration(t); err != nil {
			return nil, fmt.Errorf("idle_timeout: %w", err)
		}
	}
	switch cs := ra.GetClusterSpecifier().(type) {
	case *route.RouteAction_Cluster:
		a.cluster = cs.Cluster
	case *route.RouteAction_WeightedClusters:
		if err := a.compileWeighted(cs.WeightedClusters); err != nil {
			return nil, fmt.Errorf("weighted_clusters: %w", err)
		}
	default:
		return nil, errors.New("route action: no supported cluster specifier (cluster or weighted_clusters)")
	}
	switch ra.GetClusterNotFoundResponseCode() {
	case route.RouteAction_SERVICE_UNAVAILABLE:
		a.notFoundStatus = 503
	case route.RouteAction_NOT_FOUND:
		a.notFoundStatus = 404
	case route.RouteAction_INTERNAL_SERVER_ERROR:
		a.notFoundStatus = 500
	default:
		return nil, fmt.Errorf("unknown cluster_not_found_response_code %v", ra.GetClusterNotFoundResponseCode())
	}
	if err := a.compileRewrites(ra, pm); err != nil {
		return nil, err
	}
	if t := ra.GetTimeout(); t != nil {
		d, err := duration(t)
		if err != nil {
			return nil, fmt.Errorf("timeout: %w", err)
		}
		a.timeout = d
	}
	if rp := ra.GetRetryPolicy(); rp != nil {
		p, err := compileRetryPolicy(rp)
		if err != nil {
			return nil, fmt.Errorf("retry_policy: %w", err)
		}
		a.retry = p
	}
	return a, nil
}

func (a *forwardAction) compileWeighted(wc *route.WeightedCluster) error {
	if err := onlyFields(wc, "clusters", "total_weight"); err != nil {
		return err
	}
	var total uint64
	for _, c := range wc.GetClusters() {
		if err := onlyFields(c, "name", "weight"); err != nil {
			return fmt.Errorf("cluster %q: %w", c.GetName(), err)
		}
		w := c.GetWeight().GetValue()
		total += uint64(w)
		a.weighted = append(a.weighted, weightedCluster{name: c.GetName(), weight: w})
	}
	if total == 0 || total > 1<<32-1 {
		return fmt.Errorf("sum of weights is %d, want 1..2^32-1", total)
	}
	if tw := wc.GetTotalWeight(); tw != nil && uint64(tw.GetValue()) != total {
		return fmt.Errorf("sum of weights %d does not equal total_weight %d", total, tw.GetValue())
	}
	a.totalWeight = uint32(total)
	return nil
}

func (a *forwardAction) compileRewrites(ra *route.RouteAction, pm *pathMatcher) error {
	if ra.GetPrefixRewrite() != "" && ra.GetRegexRewrite() != nil {
		return errors.New("prefix_rewrite and regex_rewrite are mutually exclusive")
	}
	if ra.GetPrefixRewrite() != "" {
		a.hasPrefixRW, a.prefixRewrite = true, ra.GetPrefixRewrite()
		if pm.kind == pathRegex {
			return errors.New("prefix_rewrite cannot be used with a safe_regex match")
		}
	}
	if rr := ra.GetRegexRewrite(); rr != nil {
		re, subst, err := compileRegexRewrite(rr)
		if err != nil {
			return fmt.Errorf("regex_rewrite: %w", err)
		}
		a.regexRewrite, a.regexSubst = re, subst
	}
	switch hr := ra.GetHostRewriteSpecifier().(type) {
	case nil:
	case *route.RouteAction_HostRewriteLiteral:
		a.hostRewrite = hr.HostRewriteLiteral
	case *route.RouteAction_AutoHostRewrite:
		a.autoHostRewrite = hr.AutoHostRewrite.GetValue()
	}
	return nil
}

func compileRegexRewrite(rr *matcher.RegexMatchAndSubstitute) (*regexp.Regexp, string, error) {
	if err := onlyFields(rr, "pattern", "substitution"); err != nil {
		return nil, "", err
	}
	re, err := compileRegex(rr.GetPattern())
	if err != nil {
		return nil, "", err
	}
	return re, re2Substitution(rr.GetSubstitution()), nil
}

// re2Substitution converts an RE2-style substitution ("\1" back-references,
// "\\" for a backslash) to Go's Expand syntax ("${1}", "$$" for a dollar).
func re2Substitution(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b.WriteString("${")
			b.WriteByte(s[i+1])
			b.WriteByte('}')
			i++
		case c == '\\' && i+1 < len(s) && s[i+1] == '\\':
			b.WriteByte('\\')
			i++
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// rewritePath applies prefix_rewrite or regex_rewrite to the request target.
// Query strings are preserved as Envoy does: prefix_rewrite replaces the
// matched prefix of :path, regex_rewrite operates on the path part only.
func (a *forwardAction) rewritePath(pm *pathMatcher, target, path string) string {
	switch {
	case a.hasPrefixRW:
		if rest, ok := afterMatchedPrefix(target, pm.value); ok {
			return a.prefixRewrite + rest
		}
		return target
	case a.regexRewrite != nil:
		return a.regexRewrite.ReplaceAllString(path, a.regexSubst) + target[len(path):]
	}
	return target
}

// afterMatchedPrefix returns what follows the route's matched prefix in
// target. An HTTP filter may have changed :path after the match so that it no
// longer starts with the prefix; Envoy then leaves the path as the filter set
// it (it compares case-insensitively, as the match may have been).
func afterMatchedPrefix(target, prefix string) (string, bool) {
	if len(target) < len(prefix) || !strings.EqualFold(target[:len(prefix)], prefix) {
		return "", false
	}
	return target[len(prefix):], true
}

// duration converts a proto Duration, rejecting negative values.
func duration(d *durationpb.Duration) (time.Duration, error) {
	if err := d.CheckValid(); err != nil {
		return 0, err
	}
	v := d.AsDuration()
	if v < 0 {
		return 0, fmt.Errorf("negative duration %v", v)
	}
	return v, nil
}
