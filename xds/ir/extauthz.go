package ir

// ExtAuthz is the proxy's external authorization service: Envoy's
// ext_authz API over gRPC on Cluster (an HTTP/2 one), or plain HTTP when
// HTTP is set.
type ExtAuthz struct {
	Cluster          string        `json:"cluster"`
	HTTP             *ExtAuthzHTTP `json:"http,omitempty"`
	Timeout          Duration      `json:"timeout"`
	FailureModeAllow bool          `json:"failureModeAllow,omitempty"`
	// MaxRequestBytes > 0 sends the body, up to this many bytes; a larger
	// one is refused unless AllowPartialMessage.
	MaxRequestBytes     uint32 `json:"maxRequestBytes,omitempty"`
	AllowPartialMessage bool   `json:"allowPartialMessage,omitempty"`
	StatusOnError       uint32 `json:"statusOnError"`
}

// ExtAuthzHTTP is the HTTP mode: the service's base URI (its host names
// the service), a path prefix, what headers go each way.
type ExtAuthzHTTP struct {
	URI                    string            `json:"uri"`
	PathPrefix             string            `json:"pathPrefix,omitempty"`
	AllowedHeaders         []string          `json:"allowedHeaders,omitempty"`
	HeadersToAdd           map[string]string `json:"headersToAdd,omitempty"`
	AllowedUpstreamHeaders []string          `json:"allowedUpstreamHeaders,omitempty"`
	AllowedClientHeaders   []string          `json:"allowedClientHeaders,omitempty"`
}

// RouteExtAuthz makes a route ask the external authorization service,
// with these context extensions.
type RouteExtAuthz struct {
	ContextExtensions map[string]string `json:"contextExtensions,omitempty"`
}
