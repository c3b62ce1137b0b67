package api

import (
	"net"
	"regexp"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Validate implements Object.
func (u *Upstream) Validate() error {
	var f fieldErrors
	validateMeta(&f, &u.ObjectMeta)
	validateUpstreamPolicies(&f, &u.Spec)
	types := countSet(u.Spec.Static != nil, u.Spec.AWS != nil, u.Spec.Azure != nil, u.Spec.Kube != nil, u.Spec.Consul != nil)
	switch {
	case types > 1:
		f.add("spec", "only one upstream type may be set (static, aws, azure, kube, consul)")
		return f.err()
	case u.Spec.Kube != nil:
		validateKube(&f, "spec.kube", u.Spec.Kube)
		return f.err()
	case u.Spec.Consul != nil:
		if u.Spec.Consul.ServiceName == "" {
			f.add("spec.consul.serviceName", "is required")
		}
		validateServiceSpec(&f, "spec.consul.serviceSpec", u.Spec.Consul.ServiceSpec)
		return f.err()
	case u.Spec.AWS != nil:
		validateAWS(&f, "spec.aws", u.Spec.AWS)
		return f.err()
	case u.Spec.Azure != nil:
		validateAzure(&f, "spec.azure", u.Spec.Azure)
		return f.err()
	}
	s := u.Spec.Static
	if s == nil {
		f.add("spec", "an upstream type is required (static, aws, azure, kube, consul)")
		return f.err()
	}
	if len(s.Hosts) == 0 {
		f.add("spec.static.hosts", "at least one host is required")
	}
	for i, h := range s.Hosts {
		p := idx("spec.static.hosts", i)
		validateHostAddr(&f, p+".addr", h.Addr)
		if h.Port == 0 || h.Port > 65535 {
			f.add(p+".port", "must be between 1 and 65535, got %d", h.Port)
		}
		if h.LoadBalancingWeight != nil && *h.LoadBalancingWeight == 0 {
			f.add(p+".loadBalancingWeight", "must be at least 1")
		}
	}
	validateServiceSpec(&f, "spec.static.serviceSpec", s.ServiceSpec)
	return f.err()
}

func validateHostAddr(f *fieldErrors, path, addr string) {
	if addr == "" {
		f.add(path, "is required")
		return
	}
	if net.ParseIP(addr) != nil {
		return
	}
	if errs := validation.IsDNS1123Subdomain(strings.ToLower(addr)); len(errs) > 0 {
		f.add(path, "%q is neither an IP address nor a DNS name", addr)
	}
}

// Validate implements Object.
func (vs *VirtualService) Validate() error {
	var f fieldErrors
	validateMeta(&f, &vs.ObjectMeta)
	validateSSLConfig(&f, "spec.sslConfig", vs.Spec.SSLConfig)
	vh := vs.Spec.VirtualHost
	for i, d := range vh.Domains {
		if d == "" || strings.Count(d, "*") > 1 || (strings.Contains(d, "*") && !strings.HasPrefix(d, "*") && !strings.HasSuffix(d, "*")) {
			f.add(idx("spec.virtualHost.domains", i), "%q is not a domain, *.suffix, prefix.* or *", d)
		}
	}
	if vh.Options != nil {
		validateHeaders(&f, "spec.virtualHost.options.headerManipulation", vh.Options.HeaderManipulation)
		validateLocalRateLimit(&f, "spec.virtualHost.options.localRatelimit", vh.Options.LocalRatelimit)
		validateRateLimitOptions(&f, "spec.virtualHost.options.ratelimit", vh.Options.Ratelimit)
		validateCors(&f, "spec.virtualHost.options.cors", vh.Options.Cors, false)
		validateJWT(&f, "spec.virtualHost.options.jwt", vh.Options.JWT)
		validateExtAuth(&f, "spec.virtualHost.options.extauth", vh.Options.Extauth)
		validateAPIKeyAuth(&f, "spec.virtualHost.options.apiKeyAuth", vh.Options.APIKeyAuth)
		validateBasicAuth(&f, "spec.virtualHost.options.basicAuth", vh.Options.BasicAuth)
	}
	for i := range vh.Routes {
		validateRoute(&f, idx("spec.virtualHost.routes", i), &vh.Routes[i])
	}
	return f.err()
}

func validateRoute(f *fieldErrors, path string, r *Route) {
	for i := range r.Matchers {
		validateMatcher(f, idx(path+".matchers", i), &r.Matchers[i])
	}
	actions := 0
	if r.RouteAction != nil {
		actions++
		validateRouteAction(f, path+".routeAction", r.RouteAction)
	}
	if r.RedirectAction != nil {
		actions++
		validateRedirect(f, path+".redirectAction", r.RedirectAction)
	}
	if r.DirectResponseAction != nil {
		actions++
		if s := r.DirectResponseAction.Status; s < 200 || s > 599 {
			f.add(path+".directResponseAction.status", "must be between 200 and 599, got %d", s)
		}
	}
	if actions != 1 {
		f.add(path, "exactly one of routeAction, redirectAction, directResponseAction is required, got %d", actions)
	}
	if r.Options != nil {
		if r.RouteAction == nil {
			f.add(path+".options", "only routes with a routeAction take options")
		}
		validateRouteOptions(f, path+".options", r.Options)
	}
	validateFunctionRoute(f, path, r)
}

func validateMatcher(f *fieldErrors, path string, m *Matcher) {
	set := 0
	for _, p := range []string{m.Prefix, m.Exact, m.Regex} {
		if p != "" {
			set++
		}
	}
	if set > 1 {
		f.add(path, "only one of prefix, exact, regex may be set")
	}
	if m.Prefix != "" && !strings.HasPrefix(m.Prefix, "/") {
		f.add(path+".prefix", "must start with /, got %q", m.Prefix)
	}
	if m.Exact != "" && !strings.HasPrefix(m.Exact, "/") {
		f.add(path+".exact", "must start with /, got %q", m.Exact)
	}
	validateRegex(f, path+".regex", m.Regex)
	for i, h := range m.Headers {
		p := idx(path+".headers", i)
		if h.Name == "" {
			f.add(p+".name", "is required")
		}
		if h.Regex {
			validateRegex(f, p+".value", h.Value)
		}
	}
	for i, q := range m.QueryParameters {
		p := idx(path+".queryParameters", i)
		if q.Name == "" {
			f.add(p+".name", "is required")
		}
		if q.Regex {
			validateRegex(f, p+".value", q.Value)
		}
	}
	for i, meth := range m.Methods {
		if meth == "" || strings.ToUpper(meth) != meth || strings.ContainsAny(meth, " \t") {
			f.add(idx(path+".methods", i), "%q is not an upper-case HTTP method", meth)
		}
	}
}

func validateRegex(f *fieldErrors, path, re string) {
	if re == "" {
		return
	}
	if _, err := regexp.Compile(re); err != nil {
		f.add(path, "does not compile: %v", err)
	}
}

func validateRouteAction(f *fieldErrors, path string, a *RouteAction) {
	set := 0
	for _, isSet := range []bool{a.Single != nil, a.Multi != nil, a.MCP != nil} {
		if isSet {
			set++
		}
	}
	switch {
	case set > 1:
		f.add(path, "only one of single, multi, mcp may be set")
	case a.MCP != nil:
		validateMCP(f, path+".mcp", a.MCP)
	case a.Single != nil:
		validateDestination(f, path+".single", a.Single)
	case a.Multi != nil:
		if len(a.Multi.Destinations) == 0 {
			f.add(path+".multi.destinations", "at least one destination is required")
		}
		for i, d := range a.Multi.Destinations {
			p := idx(path+".multi.destinations", i)
			validateDestination(f, p+".destination", &d.Destination)
			if d.Weight == 0 {
				f.add(p+".weight", "must be at least 1")
			}
		}
	default:
		f.add(path, "one of single, multi, mcp is required")
	}
}

func validateDestination(f *fieldErrors, path string, d *Destination) {
	if d.Upstream == nil || d.Upstream.Name == "" {
		f.add(path+".upstream.name", "is required")
	}
	validateDestinationSpec(f, path+".destinationSpec", d.DestinationSpec)
}

var redirectCodes = map[string]bool{"": true, "MOVED_PERMANENTLY": true, "FOUND": true, "SEE_OTHER": true, "TEMPORARY_REDIRECT": true, "PERMANENT_REDIRECT": true}

func validateRedirect(f *fieldErrors, path string, r *RedirectAction) {
	if !redirectCodes[r.ResponseCode] {
		f.add(path+".responseCode", "%q is not one of MOVED_PERMANENTLY, FOUND, SEE_OTHER, TEMPORARY_REDIRECT, PERMANENT_REDIRECT", r.ResponseCode)
	}
	if r.PathRedirect != "" && r.PrefixRewrite != "" {
		f.add(path, "only one of pathRedirect, prefixRewrite may be set")
	}
	if r.PortRedirect > 65535 {
		f.add(path+".portRedirect", "must be at most 65535")
	}
}

var retryConditions = map[string]bool{"5xx": true, "gateway-error": true, "connect-failure": true, "reset": true, "retriable-4xx": true, "retriable-status-codes": true,
	"cancelled": true, "deadline-exceeded": true, "internal": true, "resource-exhausted": true, "unavailable": true}

func validateRouteOptions(f *fieldErrors, path string, o *RouteOptions) {
	if o.PrefixRewrite != nil && o.RegexRewrite != nil {
		f.add(path, "only one of prefixRewrite, regexRewrite may be set")
	}
	if o.RegexRewrite != nil {
		if o.RegexRewrite.Pattern.Regex == "" {
			f.add(path+".regexRewrite.pattern.regex", "is required")
		}
		validateRegex(f, path+".regexRewrite.pattern.regex", o.RegexRewrite.Pattern.Regex)
	}
	if o.HostRewrite != "" && o.AutoHostRewrite != nil && *o.AutoHostRewrite {
		f.add(path, "only one of hostRewrite, autoHostRewrite may be set")
	}
	if o.Timeout != nil && o.Timeout.Duration < 0 {
		f.add(path+".timeout", "must not be negative")
	}
	if m := o.MaxStreamDuration; m != nil && m.GrpcTimeoutHeaderMax != nil && m.GrpcTimeoutHeaderMax.Duration < 0 {
		f.add(path+".maxStreamDuration.grpcTimeoutHeaderMax", "must not be negative")
	}
	if r := o.Retries; r != nil {
		for _, c := range strings.Split(r.RetryOn, ",") {
			if c = strings.TrimSpace(c); c != "" && !retryConditions[c] {
				f.add(path+".retries.retryOn", "%q is not one of 5xx, gateway-error, connect-failure, reset, retriable-4xx, retriable-status-codes, or a gRPC status (cancelled, deadline-exceeded, internal, resource-exhausted, unavailable)", c)
			}
		}
		for i, c := range r.RetriableStatusCodes {
			if c < 100 || c > 599 {
				f.add(idx(path+".retries.retriableStatusCodes", i), "%d is not an HTTP status", c)
			}
		}
		validatePositive(f, path+".retries.perTryTimeout", r.PerTryTimeout)
		if b := r.RetryBackOff; b != nil {
			validatePositive(f, path+".retries.retryBackOff.baseInterval", b.BaseInterval)
			validatePositive(f, path+".retries.retryBackOff.maxInterval", b.MaxInterval)
			if b.BaseInterval != nil && b.MaxInterval != nil && b.MaxInterval.Duration < b.BaseInterval.Duration {
				f.add(path+".retries.retryBackOff.maxInterval", "must not be less than baseInterval")
			}
		}
	}
	validateHeaders(f, path+".headerManipulation", o.HeaderManipulation)
	validateTransformations(f, path+".transformations", o.Transformations)
	validateLocalRateLimit(f, path+".localRatelimit", o.LocalRatelimit)
	validateRateLimitOptions(f, path+".ratelimit", o.Ratelimit)
	validateShadowing(f, path+".shadowing", o.Shadowing)
	validateCors(f, path+".cors", o.Cors, true)
	validateRouteJWT(f, path+".jwt", o.JWT)
	validateExtAuth(f, path+".extauth", o.Extauth)
	validateAPIKeyAuth(f, path+".apiKeyAuth", o.APIKeyAuth)
	validateBasicAuth(f, path+".basicAuth", o.BasicAuth)
	validateFaults(f, path+".faults", o.Faults)
	validateLbHash(f, path+".lbHash", o.LbHash)
	validateBufferPerRoute(f, path+".bufferPerRoute", o.BufferPerRoute)
	validateUpgrades(f, path+".upgrades", o.Upgrades)
	validateNonNegative(f, path+".idleTimeout", o.IdleTimeout)
}

func validateUpgrades(f *fieldErrors, path string, ups []ProtocolUpgradeConfig) {
	for i, u := range ups {
		if u.Websocket == nil {
			f.add(idx(path, i), "names no protocol (websocket)")
		}
	}
}

func validateHeaders(f *fieldErrors, path string, h *HeaderManipulation) {
	if h == nil {
		return
	}
	check := func(p, name string) {
		if name == "" || strings.HasPrefix(name, ":") || strings.EqualFold(name, "host") {
			f.add(p, "%q cannot be added or removed (empty, pseudo-header or host)", name)
		}
	}
	for i, o := range h.RequestHeadersToAdd {
		p := idx(path+".requestHeadersToAdd", i)
		switch {
		case o.HeaderSecretRef != nil && o.Header != (HeaderValue{}):
			f.add(p, "only one of header, headerSecretRef may be set")
		case o.HeaderSecretRef != nil:
			if o.HeaderSecretRef.Name == "" {
				f.add(p+".headerSecretRef.name", "is required")
			}
		default:
			check(p+".header.key", o.Header.Key)
		}
	}
	for i, o := range h.ResponseHeadersToAdd {
		p := idx(path+".responseHeadersToAdd", i)
		if o.HeaderSecretRef != nil {
			f.add(p+".headerSecretRef", "secrets may add request headers only")
		}
		check(p+".header.key", o.Header.Key)
	}
	for i, n := range h.RequestHeadersToRemove {
		check(idx(path+".requestHeadersToRemove", i), n)
	}
	for i, n := range h.ResponseHeadersToRemove {
		check(idx(path+".responseHeadersToRemove", i), n)
	}
}

func validatePositive(f *fieldErrors, path string, d *metav1.Duration) {
	if d != nil && d.Duration <= 0 {
		f.add(path, "must be positive, got %s", d.Duration)
	}
	if d != nil && d.Duration > 24*time.Hour {
		f.add(path, "must be at most 24h, got %s", d.Duration)
	}
}

// Validate implements Object.
func (g *Gateway) Validate() error {
	var f fieldErrors
	validateMeta(&f, &g.ObjectMeta)
	if net.ParseIP(g.Spec.BindAddress) == nil {
		f.add("spec.bindAddress", "%q is not an IP address", g.Spec.BindAddress)
	}
	if g.Spec.BindPort == 0 || g.Spec.BindPort > 65535 {
		f.add("spec.bindPort", "must be between 1 and 65535, got %d", g.Spec.BindPort)
	}
	for i, p := range g.Spec.ProxyNames {
		if errs := validation.IsDNS1123Subdomain(p); len(errs) > 0 {
			f.add(idx("spec.proxyNames", i), "%q: %s", p, strings.Join(errs, "; "))
		}
	}
	if h := g.Spec.HTTPGateway; h != nil {
		if len(h.VirtualServices) > 0 && len(h.VirtualServiceSelector) > 0 {
			f.add("spec.httpGateway", "only one of virtualServices, virtualServiceSelector may be set")
		}
		for i, r := range h.VirtualServices {
			if r.Name == "" {
				f.add(idx("spec.httpGateway.virtualServices", i)+".name", "is required")
			}
		}
		if o := h.Options; o != nil && o.HTTPConnectionManagerSettings != nil {
			s, p := o.HTTPConnectionManagerSettings, "spec.httpGateway.options.httpConnectionManagerSettings"
			validateNonNegative(&f, p+".streamIdleTimeout", s.StreamIdleTimeout)
			validateNonNegative(&f, p+".requestTimeout", s.RequestTimeout)
			validateUpgrades(&f, p+".upgrades", s.Upgrades)
			validateTracing(&f, p+".tracing", s.Tracing)
		}
		if o := h.Options; o != nil {
			validateCompression(&f, "spec.httpGateway.options", o.Gzip, o.Brotli)
			validateBuffer(&f, "spec.httpGateway.options.buffer", o.Buffer)
		}
	}
	validateListenerOptions(&f, "spec.options", g.Spec.Options)
	if t := g.Spec.TCPGateway; t != nil {
		if g.Spec.HTTPGateway != nil || g.Spec.SSL {
			f.add("spec.tcpGateway", "a tcp gateway has no httpGateway and no ssl")
		}
		validateTCPGateway(&f, "spec.tcpGateway", t)
	}
	return f.err()
}

func validateTracing(f *fieldErrors, path string, t *Tracing) {
	if t == nil {
		return
	}
	if t.OpenTelemetryConfig == nil {
		f.add(path+".openTelemetryConfig", "is required (the only tracing provider)")
	} else if t.OpenTelemetryConfig.CollectorUpstreamRef.Name == "" {
		f.add(path+".openTelemetryConfig.collectorUpstreamRef.name", "is required")
	}
	if p := t.TracePercentages; p != nil {
		names := []string{"clientSamplePercentage", "randomSamplePercentage", "overallSamplePercentage"}
		for i, v := range []*float64{p.ClientSamplePercentage, p.RandomSamplePercentage, p.OverallSamplePercentage} {
			if v != nil {
				validatePercentage(f, path+".tracePercentages."+names[i], *v)
			}
		}
	}
}

// Validate implements Object.
func (s *Settings) Validate() error {
	var f fieldErrors
	validateMeta(&f, &s.ObjectMeta)
	if p := s.Spec.InvalidConfigPolicy; p != nil && p.InvalidRouteResponseCode != 0 && (p.InvalidRouteResponseCode < 200 || p.InvalidRouteResponseCode > 599) {
		f.add("spec.invalidConfigPolicy.invalidRouteResponseCode", "must be between 200 and 599, got %d", p.InvalidRouteResponseCode)
	}
	validateDiscovery(&f, s.Spec.Discovery)
	validateRateLimitSettings(&f, s.Spec.Ratelimit)
	validateExtAuthSettings(&f, "spec.extauth", s.Spec.Extauth)
	return f.err()
}

func validateMeta(f *fieldErrors, m *metav1.ObjectMeta) {
	if errs := validation.IsDNS1123Subdomain(m.Name); len(errs) > 0 {
		f.add("metadata.name", "%q: %s", m.Name, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(m.Namespace); len(errs) > 0 {
		f.add("metadata.namespace", "%q: %s", m.Namespace, strings.Join(errs, "; "))
	}
}

// countSet is how many of a resource's mutually exclusive fields are set.
func countSet(fields ...bool) int {
	n := 0
	for _, set := range fields {
		if set {
			n++
		}
	}
	return n
}

func validateNonNegative(f *fieldErrors, path string, d *metav1.Duration) {
	if d != nil && d.Duration < 0 {
		f.add(path, "must not be negative, got %s", d.Duration)
	}
}
