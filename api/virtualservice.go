package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// VirtualService is a set of routes served for some domains.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=gluon,shortName=vs
// +kubebuilder:printcolumn:name="Domains",type=string,JSONPath=`.spec.virtualHost.domains`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type VirtualService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              VirtualServiceSpec `json:"spec"`
	Status            *ResourceStatus    `json:"status,omitempty"`
}

// VirtualServiceList is a list of VirtualServices, as the API server returns them.
//
// +kubebuilder:object:root=true
type VirtualServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VirtualService `json:"items"`
}

// VirtualServiceSpec is Gloo's shape: everything lives under virtualHost.
type VirtualServiceSpec struct {
	DisplayName string      `json:"displayName,omitempty"`
	VirtualHost VirtualHost `json:"virtualHost"`
	// SSLConfig makes the virtual service HTTPS: only gateways with ssl
	// serve it (and only those without serve the others).
	SSLConfig *SSLConfig `json:"sslConfig,omitempty"`
}

// VirtualHost holds domains and ordered routes; the first matching route wins.
type VirtualHost struct {
	// Domains defaults to ["*"].
	Domains []string            `json:"domains,omitempty"`
	Routes  []Route             `json:"routes,omitempty"`
	Options *VirtualHostOptions `json:"options,omitempty"`
}

// VirtualHostOptions apply to every route of the virtual host.
type VirtualHostOptions struct {
	HeaderManipulation *HeaderManipulation `json:"headerManipulation,omitempty"`
	LocalRatelimit     *LocalRateLimit     `json:"localRatelimit,omitempty"`
	Ratelimit          *RateLimitOptions   `json:"ratelimit,omitempty"`
	Cors               *CorsPolicy         `json:"cors,omitempty"`
	// JWT requires a valid JSON Web Token on the virtual host's routes.
	JWT *JWTConfig `json:"jwt,omitempty"`
	// Extauth asks the external authorization service about the virtual
	// host's requests.
	Extauth *ExtAuthExtension `json:"extauth,omitempty"`
	// APIKeyAuth and BasicAuth admit only clients with a key, or a user.
	APIKeyAuth *APIKeyAuth `json:"apiKeyAuth,omitempty"`
	BasicAuth  *BasicAuth  `json:"basicAuth,omitempty"`
}

// Route matches requests and does exactly one action with them.
type Route struct {
	Name string `json:"name,omitempty"`
	// Matchers are alternatives; none means "prefix /".
	Matchers             []Matcher             `json:"matchers,omitempty"`
	RouteAction          *RouteAction          `json:"routeAction,omitempty"`
	RedirectAction       *RedirectAction       `json:"redirectAction,omitempty"`
	DirectResponseAction *DirectResponseAction `json:"directResponseAction,omitempty"`
	Options              *RouteOptions         `json:"options,omitempty"`
}

// Matcher matches a request by path (one of prefix, exact, regex), headers,
// query parameters and methods; all given conditions must hold.
type Matcher struct {
	Prefix          string                  `json:"prefix,omitempty"`
	Exact           string                  `json:"exact,omitempty"`
	Regex           string                  `json:"regex,omitempty"`
	Headers         []HeaderMatcher         `json:"headers,omitempty"`
	QueryParameters []QueryParameterMatcher `json:"queryParameters,omitempty"`
	Methods         []string                `json:"methods,omitempty"`
	// CaseSensitive defaults to true.
	CaseSensitive *bool `json:"caseSensitive,omitempty"`
}

// HeaderMatcher matches one header; an empty value only asks that it be present.
type HeaderMatcher struct {
	Name        string `json:"name"`
	Value       string `json:"value,omitempty"`
	Regex       bool   `json:"regex,omitempty"`
	InvertMatch bool   `json:"invertMatch,omitempty"`
}

// QueryParameterMatcher matches one query parameter; an empty value only asks
// that it be present.
type QueryParameterMatcher struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
	Regex bool   `json:"regex,omitempty"`
}

// RouteAction forwards to one destination or splits across several.
type RouteAction struct {
	Single *Destination      `json:"single,omitempty"`
	Multi  *MultiDestination `json:"multi,omitempty"`
	// MCP serves functions as the tools of an MCP server.
	MCP *MCPAction `json:"mcp,omitempty"`
}

// Destination names an upstream and, optionally, the function to call on it.
type Destination struct {
	Upstream        *ResourceRef     `json:"upstream,omitempty"`
	DestinationSpec *DestinationSpec `json:"destinationSpec,omitempty"`
}

// MultiDestination splits traffic by weight.
type MultiDestination struct {
	Destinations []WeightedDestination `json:"destinations"`
}

// WeightedDestination is one share of a split.
type WeightedDestination struct {
	Destination Destination `json:"destination"`
	Weight      uint32      `json:"weight"`
}

// RedirectAction answers with a redirect.
type RedirectAction struct {
	HostRedirect  string `json:"hostRedirect,omitempty"`
	PortRedirect  uint32 `json:"portRedirect,omitempty"`
	PathRedirect  string `json:"pathRedirect,omitempty"`
	PrefixRewrite string `json:"prefixRewrite,omitempty"`
	HTTPSRedirect bool   `json:"httpsRedirect,omitempty"`
	StripQuery    bool   `json:"stripQuery,omitempty"`
	// ResponseCode is one of MOVED_PERMANENTLY (default), FOUND, SEE_OTHER,
	// TEMPORARY_REDIRECT, PERMANENT_REDIRECT.
	ResponseCode string `json:"responseCode,omitempty"`
}

// DirectResponseAction answers with a fixed status and body.
type DirectResponseAction struct {
	Status uint32 `json:"status"`
	Body   string `json:"body,omitempty"`
}

// RouteOptions change how a forwarded request is sent and answered.
type RouteOptions struct {
	PrefixRewrite      *string             `json:"prefixRewrite,omitempty"`
	RegexRewrite       *RegexRewrite       `json:"regexRewrite,omitempty"`
	HostRewrite        string              `json:"hostRewrite,omitempty"`
	AutoHostRewrite    *bool               `json:"autoHostRewrite,omitempty"`
	Timeout            *metav1.Duration    `json:"timeout,omitempty"`
	Retries            *RetryPolicy        `json:"retries,omitempty"`
	HeaderManipulation *HeaderManipulation `json:"headerManipulation,omitempty"`
	Transformations    *Transformations    `json:"transformations,omitempty"`
	LocalRatelimit     *LocalRateLimit     `json:"localRatelimit,omitempty"`
	Ratelimit          *RateLimitOptions   `json:"ratelimit,omitempty"`
	// Shadowing mirrors requests to another upstream; its answers are dropped.
	Shadowing *Shadowing `json:"shadowing,omitempty"`
	// Cors replaces the virtual host's CORS policy for this route.
	Cors *CorsPolicy `json:"cors,omitempty"`
	// Faults aborts or delays a share of the route's requests.
	Faults *FaultInjection `json:"faults,omitempty"`
	// LbHash says what requests are hashed by, for ring hash and maglev
	// upstreams: sticky sessions.
	LbHash *LbHash `json:"lbHash,omitempty"`
	// BufferPerRoute turns the gateway's request buffering off for the
	// route, or buffers its requests up to its own limit.
	BufferPerRoute *BufferPerRoute `json:"bufferPerRoute,omitempty"`
	// Upgrades turns WebSocket upgrades on or off for the route, over the
	// gateway's setting.
	Upgrades []ProtocolUpgradeConfig `json:"upgrades,omitempty"`
	// IdleTimeout ends a request, or an upgraded connection (a WebSocket),
	// that carries nothing for this long; default the gateway's stream
	// idle timeout.
	IdleTimeout *metav1.Duration `json:"idleTimeout,omitempty"`
	// MaxStreamDuration says how a gRPC request's grpc-timeout header sets
	// its timeout. Routes to HTTP/2 upstreams honour it, uncapped, by
	// default.
	MaxStreamDuration *MaxStreamDuration `json:"maxStreamDuration,omitempty"`
	// JWT replaces the virtual host's token requirement for this route.
	JWT *RouteJWT `json:"jwt,omitempty"`
	// Extauth replaces the virtual host's external authorization setting.
	Extauth *ExtAuthExtension `json:"extauth,omitempty"`
	// APIKeyAuth and BasicAuth replace the virtual host's for this route.
	APIKeyAuth *APIKeyAuth `json:"apiKeyAuth,omitempty"`
	BasicAuth  *BasicAuth  `json:"basicAuth,omitempty"`
}

// WebSockets is the route's own WebSocket setting; nil: the gateway's.
func (o *RouteOptions) WebSockets() *bool { return websocketSetting(o.Upgrades) }

// Shadowing is Gloo's request mirroring: a copy of each request (or of a
// percentage of them) goes to Upstream, fire and forget.
type Shadowing struct {
	Upstream ResourceRef `json:"upstream"`
	// Percentage of requests mirrored, 0-100 (default 100).
	Percentage *uint32 `json:"percentage,omitempty"`
}

// RegexRewrite rewrites the path with an RE2 pattern and substitution.
type RegexRewrite struct {
	Pattern      RegexPattern `json:"pattern"`
	Substitution string       `json:"substitution"`
}

// RegexPattern is Gloo's (and Envoy's) wrapper around a regex.
type RegexPattern struct {
	Regex string `json:"regex"`
}

// RetryPolicy retries failed attempts.
type RetryPolicy struct {
	// RetryOn is Envoy's comma list: 5xx, gateway-error, connect-failure,
	// reset, retriable-4xx, retriable-status-codes.
	RetryOn string `json:"retryOn,omitempty"`
	// RetriableStatusCodes are retried under retriable-status-codes.
	RetriableStatusCodes []uint32         `json:"retriableStatusCodes,omitempty"`
	NumRetries           uint32           `json:"numRetries,omitempty"`
	PerTryTimeout        *metav1.Duration `json:"perTryTimeout,omitempty"`
	RetryBackOff         *RetryBackOff    `json:"retryBackOff,omitempty"`
}

// RetryBackOff bounds the jittered exponential back-off between retries.
type RetryBackOff struct {
	BaseInterval *metav1.Duration `json:"baseInterval,omitempty"`
	MaxInterval  *metav1.Duration `json:"maxInterval,omitempty"`
}

// HeaderManipulation adds and removes request and response headers.
type HeaderManipulation struct {
	RequestHeadersToAdd     []HeaderValueOption `json:"requestHeadersToAdd,omitempty"`
	RequestHeadersToRemove  []string            `json:"requestHeadersToRemove,omitempty"`
	ResponseHeadersToAdd    []HeaderValueOption `json:"responseHeadersToAdd,omitempty"`
	ResponseHeadersToRemove []string            `json:"responseHeadersToRemove,omitempty"`
}

// HeaderValueOption is one header to add; Append (default true) keeps
// existing values, false overwrites them.
type HeaderValueOption struct {
	Header HeaderValue `json:"header,omitempty"`
	// HeaderSecretRef adds every header of a header Secret instead (request
	// headers only); exactly one of header and headerSecretRef is set.
	HeaderSecretRef *ResourceRef `json:"headerSecretRef,omitempty"`
	Append          *bool        `json:"append,omitempty"`
}

// HeaderValue is a header name and value.
type HeaderValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// GetObjectKind implements Object.
func (*VirtualService) ResourceKind() Kind { return KindVirtualService }

// MaxStreamDuration is Gloo's (Envoy's) route max_stream_duration.
type MaxStreamDuration struct {
	// GrpcTimeoutHeaderMax caps the timeout a grpc-timeout header asks
	// for; 0 leaves it uncapped.
	GrpcTimeoutHeaderMax *metav1.Duration `json:"grpcTimeoutHeaderMax,omitempty"`
}

// GetMaxStreamDuration returns the route's maxStreamDuration (nil-safe).
func (o *RouteOptions) GetMaxStreamDuration() *MaxStreamDuration {
	if o == nil {
		return nil
	}
	return o.MaxStreamDuration
}
