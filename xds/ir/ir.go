// Package ir is the Proxy intermediate representation between Gluon's two
// translation stages: plain, YAML-serialisable Go structs that say what one
// proxy (an Envoy fleet) must do, with no protobuf and no Kubernetes types.
// Stage 1 (gateway) builds it from resources; stage 2 (xds/translator) turns
// it into Envoy resources. Lists are sorted by the builder.
package ir

import (
	"github.com/gluon-gateway/gluon/envoy-filters/wire/azurewire"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/lambdawire"
	"github.com/gluon-gateway/gluon/transform/spec"
)

// Proxy is everything one proxy serves.
type Proxy struct {
	Name      string      `json:"name"`
	Listeners []*Listener `json:"listeners,omitempty"`
	Clusters  []*Cluster  `json:"clusters,omitempty"`
	// AllowedEnv names the environment variables transformation templates
	// may read.
	AllowedEnv []string `json:"allowedEnv,omitempty"`
	// RateLimitService decides global rate limits; needed when a route or
	// virtual host has global limits.
	RateLimitService *RateLimitService `json:"rateLimitService,omitempty"`
	// ExtAuthz is asked about the requests of routes with ExtAuthz.
	ExtAuthz *ExtAuthz `json:"extAuthz,omitempty"`
	// AzureKeys and AzureAAD authorise Azure Function calls, by upstream
	// ("ns/name").
	AzureKeys map[string]AzureAppKeys `json:"azureKeys,omitempty"`
	AzureAAD  map[string]AzureAAD     `json:"azureAad,omitempty"`
	// AWSCredentials sign Lambda invocations, by upstream ("ns/name").
	AWSCredentials map[string]AWSCredentials `json:"awsCredentials,omitempty"`
	// Secrets are served to the proxy over SDS: the certificates and CAs
	// its HTTPS listeners name.
	Secrets []Secret `json:"secrets,omitempty"`
}

// Secret is an SDS secret: a certificate with its key, or CAs that verify
// client certificates.
type Secret struct {
	Name        string   `json:"name"`
	Certificate *KeyPair `json:"certificate,omitempty"`
	TrustedCA   string   `json:"trustedCa,omitempty"`
}

// TLSChain is one filter chain of an HTTPS listener: the server names that
// choose it, how it terminates TLS, and (through their TLSChain) the
// virtual hosts it serves.
type TLSChain struct {
	Name string `json:"name"`
	// ServerNames are exact or *.suffix; none: the chain for any other SNI.
	ServerNames []string `json:"serverNames,omitempty"`
	// CertificateSecret and CASecret name SDS secrets; Files, paths on the
	// proxy's host instead.
	CertificateSecret string    `json:"certificateSecret,omitempty"`
	CASecret          string    `json:"caSecret,omitempty"`
	Files             *TLSFiles `json:"files,omitempty"`
	RequireClientCert bool      `json:"requireClientCert,omitempty"`
	VerifySANs        []string  `json:"verifySans,omitempty"`
	// MinVersion and MaxVersion are Envoy's names (TLSv1_2, TLSv1_3).
	MinVersion   string   `json:"minVersion,omitempty"`
	MaxVersion   string   `json:"maxVersion,omitempty"`
	CipherSuites []string `json:"cipherSuites,omitempty"`
	// ALPN offered; nil: h2 and http/1.1.
	ALPN []string `json:"alpn,omitempty"`
}

// AWSCredentials is an AWS access key, as the Lambda filter reads it.
type AWSCredentials = lambdawire.Credentials

// The plugins' configs are the IR's own: stage 2 passes them on as they are
// (their wire contracts, in envoy-filters/wire), so the IR does not copy
// them field for field.
type (
	// AzureAppKeys are a Function App's keys.
	AzureAppKeys = azurewire.Keys
	// AzureAAD gets Entra ID tokens for an app behind App Service
	// authentication.
	AzureAAD = azurewire.AAD
	// AzureInvoke makes a forwarded route call an Azure Function.
	AzureInvoke = azurewire.RouteConfig
	// LambdaInvoke makes a forwarded route invoke a Lambda function.
	LambdaInvoke = lambdawire.RouteConfig
)

// Listener is an HTTP listener.
type Listener struct {
	Name         string         `json:"name"`
	Origin       Origin         `json:"origin,omitzero"`
	Address      string         `json:"address"`
	Port         uint32         `json:"port"`
	VirtualHosts []*VirtualHost `json:"virtualHosts,omitempty"`
	// StreamIdleTimeout and RequestTimeout bound a request that stalls or
	// takes too long to arrive; nil keeps Envoy's defaults (5m, none).
	StreamIdleTimeout *Duration `json:"streamIdleTimeout,omitempty"`
	RequestTimeout    *Duration `json:"requestTimeout,omitempty"`
	// KeepDotSegments turns off the normalisation of dot segments in paths
	// before routes match (on by default); MergeSlashes collapses "//".
	KeepDotSegments bool `json:"keepDotSegments,omitempty"`
	MergeSlashes    bool `json:"mergeSlashes,omitempty"`
	// Compression lists the response encodings offered, in preference
	// order for clients that like them equally.
	Compression []Compressor `json:"compression,omitempty"`
	// BufferLimitBytes is Envoy's per_connection_buffer_limit_bytes: the
	// default limit of bodies filters buffer; nil keeps 1 MiB.
	BufferLimitBytes *uint32 `json:"bufferLimitBytes,omitempty"`
	// BufferMaxRequestBytes buffers every request whole, up to this (413
	// past it); nil buffers only on routes that ask for it.
	BufferMaxRequestBytes *uint32 `json:"bufferMaxRequestBytes,omitempty"`
	// NoWebSockets refuses WebSocket upgrades but on routes that allow them.
	NoWebSockets bool `json:"noWebSockets,omitempty"`
	// TLS makes the listener HTTPS, one filter chain per entry; each
	// virtual host names its chain.
	TLS []*TLSChain `json:"tls,omitempty"`
	// TCPHosts make it a TCP listener (no virtual hosts): each connection
	// goes to the host its SNI selects, or to the one without names.
	TCPHosts []*TCPHost `json:"tcpHosts,omitempty"`
	// AccessLogs write a line per request.
	AccessLogs []AccessLog `json:"accessLogs,omitempty"`
	// Tracing sends spans of sampled requests to a collector; nil: none.
	Tracing *Tracing `json:"tracing,omitempty"`
}

// Tracing exports spans with OTLP/gRPC to the collector Cluster (an
// HTTP/2 one). The percentages are Envoy's random, client and overall
// sampling.
type Tracing struct {
	Cluster        string  `json:"cluster"`
	ServiceName    string  `json:"serviceName"`
	RandomPercent  float64 `json:"randomPercent"`
	ClientPercent  float64 `json:"clientPercent"`
	OverallPercent float64 `json:"overallPercent"`
}

// AccessLog writes lines to Path in Envoy's format: Text, or JSON (an
// object of texts); neither is Envoy's default line.
type AccessLog struct {
	Path string            `json:"path"`
	Text string            `json:"text,omitempty"`
	JSON map[string]string `json:"json,omitempty"`
}

// TCPHost forwards the connections its server names select (TLS passed
// through), or any other connection when it has none.
type TCPHost struct {
	Name         string        `json:"name"`
	ServerNames  []string      `json:"serverNames,omitempty"`
	Destinations []Destination `json:"destinations"`
}

// Encodings a Compressor produces.
const (
	EncodingGzip   = "gzip"
	EncodingBrotli = "br"
)

// Compressor compresses responses into one encoding.
type Compressor struct {
	Encoding string `json:"encoding"`
	// Level is gzip's 1-9 (0: zlib's default) or brotli's quality 0-11
	// (nil: Envoy's default 3); Level is ignored for gzip when nil too.
	Level            *uint32  `json:"level,omitempty"`
	MinContentLength *uint32  `json:"minContentLength,omitempty"`
	ContentTypes     []string `json:"contentTypes,omitempty"`
	DisableOnETag    bool     `json:"disableOnEtag,omitempty"`
	// RemoveAcceptEncoding hides Accept-Encoding from the upstream.
	RemoveAcceptEncoding bool `json:"removeAcceptEncoding,omitempty"`
}

// RouteBuffer turns request buffering off on a route, or buffers up to
// MaxRequestBytes.
type RouteBuffer struct {
	Disabled        bool   `json:"disabled,omitempty"`
	MaxRequestBytes uint32 `json:"maxRequestBytes,omitempty"`
}

// VirtualHost is a set of domains and their ordered routes.
type VirtualHost struct {
	Name string `json:"name"`
	// TLSChain names the filter chain of an HTTPS listener serving it.
	TLSChain  string          `json:"tlsChain,omitempty"`
	Origin    Origin          `json:"origin,omitzero"`
	Domains   []string        `json:"domains"`
	Routes    []*Route        `json:"routes,omitempty"`
	Headers   *HeaderMutation `json:"headers,omitempty"`
	RateLimit *RateLimit      `json:"rateLimit,omitempty"`
	CORS      *CORS           `json:"cors,omitempty"`
	// JWTProviders are the token issuers its routes' JWT requirements name.
	JWTProviders []JWTProvider `json:"jwtProviders,omitempty"`
}

// Fault is a route's fault injection. Shares are per million requests.
type Fault struct {
	AbortStatus     uint32   `json:"abortStatus,omitempty"`
	AbortPerMillion uint32   `json:"abortPerMillion,omitempty"`
	Delay           Duration `json:"delay,omitempty"`
	DelayPerMillion uint32   `json:"delayPerMillion,omitempty"`
}

// CORS is a virtual host's or route's CORS policy; a route's replaces its
// virtual host's. Disabled turns CORS off for a route.
type CORS struct {
	AllowOrigins       []string `json:"allowOrigins,omitempty"`       // exact; "*" allows any
	AllowOriginRegexes []string `json:"allowOriginRegexes,omitempty"` // RE2, whole origin
	AllowMethods       []string `json:"allowMethods,omitempty"`
	AllowHeaders       []string `json:"allowHeaders,omitempty"`
	ExposeHeaders      []string `json:"exposeHeaders,omitempty"`
	MaxAge             string   `json:"maxAge,omitempty"` // seconds
	AllowCredentials   bool     `json:"allowCredentials,omitempty"`
	Disabled           bool     `json:"disabled,omitempty"`
}

// RateLimit is a virtual host's or route's rate limiting: a local token
// bucket, and descriptors for the global rate-limit service.
type RateLimit struct {
	Local  *LocalRateLimit    `json:"local,omitempty"`
	Global []RateLimitActions `json:"global,omitempty"`
}

// LocalRateLimit is a token bucket.
type LocalRateLimit struct {
	MaxTokens     uint32   `json:"maxTokens"`
	TokensPerFill uint32   `json:"tokensPerFill"`
	FillInterval  Duration `json:"fillInterval"`
}

// RateLimitActions make one descriptor.
type RateLimitActions struct {
	Actions []RateLimitAction `json:"actions"`
}

// RateLimitAction is one entry of a descriptor; exactly one field is set.
type RateLimitAction struct {
	RemoteAddress    bool                   `json:"remoteAddress,omitempty"`
	RequestHeader    *RequestHeaderEntry    `json:"requestHeader,omitempty"`
	GenericKey       *DescriptorEntry       `json:"genericKey,omitempty"`
	HeaderValueMatch *HeaderValueMatchEntry `json:"headerValueMatch,omitempty"`
}

// RequestHeaderEntry is a header's value under a key.
type RequestHeaderEntry struct {
	Header       string `json:"header"`
	Key          string `json:"key"`
	SkipIfAbsent bool   `json:"skipIfAbsent,omitempty"`
}

// DescriptorEntry is a fixed key and value.
type DescriptorEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// HeaderValueMatchEntry is a fixed entry when headers match (or not).
type HeaderValueMatchEntry struct {
	DescriptorEntry
	ExpectMatch bool          `json:"expectMatch"`
	Headers     []HeaderMatch `json:"headers"`
}

// RateLimitService is where a proxy's global rate limits are decided.
type RateLimitService struct {
	Address         string   `json:"address"`
	Port            uint32   `json:"port"`
	Domain          string   `json:"domain"`
	FailureModeDeny bool     `json:"failureModeDeny,omitempty"`
	Timeout         Duration `json:"timeout"`
	// TLS, when set, reaches the service over TLS with these files.
	TLS *TLSFiles `json:"tls,omitempty"`
}

// TLSFiles are PEM files on the proxy's own host: a client certificate and
// key to present (optional) and the CA bundle that verifies the server.
type TLSFiles struct {
	CertFile string `json:"certFile,omitempty"`
	KeyFile  string `json:"keyFile,omitempty"`
	CAFile   string `json:"caFile"`
}

// Route matches requests and does exactly one of Forward, Redirect,
// DirectResponse.
type Route struct {
	Name           string          `json:"name"`
	Origin         Origin          `json:"origin,omitzero"`
	Match          Match           `json:"match"`
	Forward        *Forward        `json:"forward,omitempty"`
	Redirect       *Redirect       `json:"redirect,omitempty"`
	DirectResponse *DirectResponse `json:"directResponse,omitempty"`
	Headers        *HeaderMutation `json:"headers,omitempty"`
	// Transformation reshapes the request and response (forwarded routes).
	Transformation *spec.Spec `json:"transformation,omitempty"`
	// Lambda invokes a function instead of forwarding as is.
	Lambda *LambdaInvoke `json:"lambda,omitempty"`
	// Azure calls an Azure Function.
	Azure *AzureInvoke `json:"azure,omitempty"`
	// GRPC transcodes JSON requests into gRPC calls and their answers
	// back.
	GRPC *GRPCTranscode `json:"grpc,omitempty"`
	// MCP serves the route as an MCP server.
	MCP *MCP `json:"mcp,omitempty"`
	// RateLimit limits the route's requests.
	RateLimit *RateLimit `json:"rateLimit,omitempty"`
	// CORS replaces the virtual host's policy.
	CORS *CORS `json:"cors,omitempty"`
	// JWT is the tokens the route requires; nil: none.
	JWT *JWTRequirement `json:"jwt,omitempty"`
	// ExtAuthz asks the proxy's external authorization service; nil: not.
	ExtAuthz *RouteExtAuthz `json:"extAuthz,omitempty"`
	// APIKeyAuth and BasicAuth admit only clients with a key, or a user.
	APIKeyAuth *APIKeyAuth `json:"apiKeyAuth,omitempty"`
	BasicAuth  *BasicAuth  `json:"basicAuth,omitempty"`
	// Fault aborts or delays a share of the route's requests.
	Fault *Fault `json:"fault,omitempty"`
	// Buffer overrides the listener's request buffering.
	Buffer *RouteBuffer `json:"buffer,omitempty"`
	// WebSockets overrides the listener's WebSocket setting; nil keeps it.
	WebSockets *bool `json:"webSockets,omitempty"`
	// IdleTimeout ends a request or tunnel idle this long; nil: the
	// listener's stream idle timeout.
	IdleTimeout *Duration `json:"idleTimeout,omitempty"`
}

// Match says which requests a route takes. Exactly one path condition is set.
type Match struct {
	PathPrefix      string        `json:"pathPrefix,omitempty"`
	PathExact       string        `json:"pathExact,omitempty"`
	PathRegex       string        `json:"pathRegex,omitempty"`
	CaseInsensitive bool          `json:"caseInsensitive,omitempty"`
	Headers         []HeaderMatch `json:"headers,omitempty"`
	QueryParams     []QueryMatch  `json:"queryParams,omitempty"`
	Methods         []string      `json:"methods,omitempty"`
}

// HeaderMatch matches one header by exact value, regex, or presence (neither set).
type HeaderMatch struct {
	Name   string `json:"name"`
	Exact  string `json:"exact,omitempty"`
	Regex  string `json:"regex,omitempty"`
	Invert bool   `json:"invert,omitempty"`
}

// QueryMatch matches one query parameter by exact value, regex, or presence.
type QueryMatch struct {
	Name  string `json:"name"`
	Exact string `json:"exact,omitempty"`
	Regex string `json:"regex,omitempty"`
}

// Forward sends the request to one or more weighted clusters.
type Forward struct {
	Destinations    []Destination `json:"destinations"`
	PrefixRewrite   *string       `json:"prefixRewrite,omitempty"`
	RegexRewrite    *RegexRewrite `json:"regexRewrite,omitempty"`
	HostRewrite     string        `json:"hostRewrite,omitempty"`
	AutoHostRewrite bool          `json:"autoHostRewrite,omitempty"`
	// Timeout nil means Envoy's default (15s); zero disables it.
	Timeout *Duration `json:"timeout,omitempty"`
	Retry   *Retry    `json:"retry,omitempty"`
	// Mirrors each get a copy of a share of the requests, fire and forget
	// (Gloo's shadowing); their answers are dropped.
	Mirrors []Mirror `json:"mirrors,omitempty"`
	// HashPolicies feed ring hash and maglev clusters.
	HashPolicies []HashPolicy `json:"hashPolicies,omitempty"`
	// GRPCTimeoutHeaderMax, when set, lets a gRPC request's grpc-timeout
	// header replace Timeout, capped at it (0: uncapped).
	GRPCTimeoutHeaderMax *Duration `json:"grpcTimeoutHeaderMax,omitempty"`
}

// Mirror sends a copy of Percent (0-100) percent of requests to Cluster.
type Mirror struct {
	Cluster string `json:"cluster"`
	Percent uint32 `json:"percent"`
}

// Destination is one weighted cluster.
type Destination struct {
	Cluster string `json:"cluster"`
	Weight  uint32 `json:"weight"`
}

// RegexRewrite rewrites the path.
type RegexRewrite struct {
	Pattern      string `json:"pattern"`
	Substitution string `json:"substitution"`
}

// Retry is Envoy's retry policy.
type Retry struct {
	RetryOn       string    `json:"retryOn"`
	NumRetries    uint32    `json:"numRetries"`
	PerTryTimeout *Duration `json:"perTryTimeout,omitempty"`
	BaseInterval  *Duration `json:"baseInterval,omitempty"`
	MaxInterval   *Duration `json:"maxInterval,omitempty"`
	// RetriableStatusCodes apply under retriable-status-codes.
	RetriableStatusCodes []uint32 `json:"retriableStatusCodes,omitempty"`
}

// Redirect answers with a redirect.
type Redirect struct {
	Scheme        string `json:"scheme,omitempty"`
	Host          string `json:"host,omitempty"`
	Port          uint32 `json:"port,omitempty"`
	Path          string `json:"path,omitempty"`
	PrefixRewrite string `json:"prefixRewrite,omitempty"`
	StripQuery    bool   `json:"stripQuery,omitempty"`
	// Code is 301, 302, 303, 307 or 308.
	Code uint32 `json:"code"`
}

// DirectResponse answers with a fixed status and body.
type DirectResponse struct {
	Status uint32 `json:"status"`
	Body   string `json:"body,omitempty"`
}

// HeaderMutation adds and removes request and response headers.
type HeaderMutation struct {
	AddRequest     []HeaderValue `json:"addRequest,omitempty"`
	RemoveRequest  []string      `json:"removeRequest,omitempty"`
	AddResponse    []HeaderValue `json:"addResponse,omitempty"`
	RemoveResponse []string      `json:"removeResponse,omitempty"`
}

// HeaderValue is a header to add; Append false overwrites existing values.
type HeaderValue struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Append bool   `json:"append"`
}

// Discovery says how a cluster's endpoints reach the proxy.
type Discovery string

// The discovery types Gluon emits.
const (
	// DiscoveryEDS serves endpoints separately, so they change without
	// touching the cluster (IP endpoints).
	DiscoveryEDS Discovery = "EDS"
	// DiscoveryStrictDNS resolves hostnames in the proxy.
	DiscoveryStrictDNS Discovery = "STRICT_DNS"
	// DiscoveryStatic inlines IP endpoints in the cluster.
	DiscoveryStatic Discovery = "STATIC"
)

// Cluster is a set of endpoints traffic is balanced across.
type Cluster struct {
	Name           string     `json:"name"`
	Origin         Origin     `json:"origin,omitzero"`
	Discovery      Discovery  `json:"discovery"`
	Endpoints      []Endpoint `json:"endpoints,omitempty"`
	TLS            *TLS       `json:"tls,omitempty"`
	ConnectTimeout Duration   `json:"connectTimeout"`
	// CircuitBreakers are Envoy's default-priority thresholds; nil: none.
	CircuitBreakers *CircuitBreakers `json:"circuitBreakers,omitempty"`
	// OutlierDetection ejects endpoints that keep failing; nil: none.
	OutlierDetection *OutlierDetection `json:"outlierDetection,omitempty"`
	HealthChecks     []HealthCheck     `json:"healthChecks,omitempty"`
	// LoadBalancer nil is round robin with Envoy's defaults.
	LoadBalancer *LoadBalancer `json:"loadBalancer,omitempty"`
	// HTTP2 speaks HTTP/2 to the endpoints (h2c, or ALPN h2 with TLS).
	HTTP2 bool `json:"http2,omitempty"`
}

// Endpoint is one host:port with a weight.
type Endpoint struct {
	Host   string `json:"host"`
	Port   uint32 `json:"port"`
	Weight uint32 `json:"weight"`
}

// TLS turns on TLS towards a cluster.
type TLS struct {
	SNI string `json:"sni,omitempty"`
	// ClientCert is presented to the upstream (mTLS), PEM.
	ClientCert *KeyPair `json:"clientCert,omitempty"`
	// RootCA verifies the upstream instead of the system's roots, PEM.
	RootCA string `json:"rootCa,omitempty"`
}

// KeyPair is a PEM certificate chain and its private key.
type KeyPair struct {
	CertChain  string `json:"certChain"`
	PrivateKey string `json:"privateKey"`
}

// Origin is the user resource, and the field in it, that an IR element was
// made from: what stage 2 cannot build is reported there.
type Origin struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Field is the path of the field in the resource, e.g.
	// spec.virtualHost.routes[3].matchers[0]; empty for the whole resource.
	Field string `json:"field,omitempty"`
}

// CircuitBreakers limit what a cluster is sent at once; a nil field keeps
// Envoy's default.
type CircuitBreakers struct {
	MaxConnections     *uint32      `json:"maxConnections,omitempty"`
	MaxPendingRequests *uint32      `json:"maxPendingRequests,omitempty"`
	MaxRequests        *uint32      `json:"maxRequests,omitempty"`
	MaxRetries         *uint32      `json:"maxRetries,omitempty"`
	RetryBudget        *RetryBudget `json:"retryBudget,omitempty"`
}

// RetryBudget bounds retries in flight to a share of active requests.
type RetryBudget struct {
	BudgetPercent       *float64 `json:"budgetPercent,omitempty"`
	MinRetryConcurrency *uint32  `json:"minRetryConcurrency,omitempty"`
}

// OutlierDetection is Envoy's; a nil field keeps Envoy's default, except
// that setting ConsecutiveGatewayFailure also enforces it.
type OutlierDetection struct {
	Consecutive5xx            *uint32   `json:"consecutive5xx,omitempty"`
	ConsecutiveGatewayFailure *uint32   `json:"consecutiveGatewayFailure,omitempty"`
	Interval                  *Duration `json:"interval,omitempty"`
	BaseEjectionTime          *Duration `json:"baseEjectionTime,omitempty"`
	MaxEjectionPercent        *uint32   `json:"maxEjectionPercent,omitempty"`
}

// HealthCheck is an active check of every endpoint: HTTP when HTTP is set,
// else a TCP connect.
type HealthCheck struct {
	Timeout            Duration         `json:"timeout"`
	Interval           Duration         `json:"interval"`
	UnhealthyThreshold uint32           `json:"unhealthyThreshold"`
	HealthyThreshold   uint32           `json:"healthyThreshold"`
	HTTP               *HTTPHealthCheck `json:"http,omitempty"`
}

// HTTPHealthCheck GETs Path; Host empty is the cluster's name.
type HTTPHealthCheck struct {
	Path             string        `json:"path"`
	Host             string        `json:"host,omitempty"`
	ExpectedStatuses []StatusRange `json:"expectedStatuses,omitempty"`
}

// StatusRange is [Start, End).
type StatusRange struct {
	Start uint32 `json:"start"`
	End   uint32 `json:"end"`
}

// LBPolicy is Envoy's lb_policy.
type LBPolicy string

// The policies Gluon emits.
const (
	LBRoundRobin   LBPolicy = "ROUND_ROBIN"
	LBLeastRequest LBPolicy = "LEAST_REQUEST"
	LBRandom       LBPolicy = "RANDOM"
	LBRingHash     LBPolicy = "RING_HASH"
	LBMaglev       LBPolicy = "MAGLEV"
)

// LoadBalancer is a cluster's balancing policy and its settings.
type LoadBalancer struct {
	Policy LBPolicy `json:"policy"`
	// ChoiceCount is for LEAST_REQUEST; ring sizes for RING_HASH.
	ChoiceCount     *uint32 `json:"choiceCount,omitempty"`
	MinimumRingSize *uint64 `json:"minimumRingSize,omitempty"`
	MaximumRingSize *uint64 `json:"maximumRingSize,omitempty"`
	// HealthyPanicThreshold is a percentage; nil keeps Envoy's 50.
	HealthyPanicThreshold *float64 `json:"healthyPanicThreshold,omitempty"`
}

// HashPolicy is one request property a hashing balancer uses: exactly one
// of Header, Cookie, SourceIP.
type HashPolicy struct {
	Header   string      `json:"header,omitempty"`
	Cookie   *HashCookie `json:"cookie,omitempty"`
	SourceIP bool        `json:"sourceIp,omitempty"`
	Terminal bool        `json:"terminal,omitempty"`
}

// HashCookie hashes a cookie, set by the proxy when TTL is given.
type HashCookie struct {
	Name string    `json:"name"`
	TTL  *Duration `json:"ttl,omitempty"`
	Path string    `json:"path,omitempty"`
}
