package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ExtAuthSettings name the external authorization service (Gloo's
// settings.extauth): an Upstream speaking Envoy's ext_authz API, over gRPC
// (envoy.service.auth.v3) or plain HTTP.
type ExtAuthSettings struct {
	ExtauthzServerRef ResourceRef `json:"extauthzServerRef"`
	// HTTPService calls the service over HTTP: the request's method and
	// path (after PathPrefix) with some of its headers; a 200 allows it.
	// Without it the service is called over gRPC (the Upstream needs
	// useHttp2).
	HTTPService *ExtAuthHTTPService `json:"httpService,omitempty"`
	// RequestTimeout bounds each check (default 200ms).
	RequestTimeout *metav1.Duration `json:"requestTimeout,omitempty"`
	// FailureModeAllow lets requests through when the service fails or
	// times out; otherwise they get StatusOnError.
	FailureModeAllow bool `json:"failureModeAllow,omitempty"`
	// RequestBody sends the request body too, up to a limit.
	RequestBody *ExtAuthRequestBody `json:"requestBody,omitempty"`
	// StatusOnError is the status when the service fails (default 403).
	StatusOnError *uint32 `json:"statusOnError,omitempty"`
}

// ExtAuthHTTPService is the HTTP mode's shape of the check.
type ExtAuthHTTPService struct {
	PathPrefix string `json:"pathPrefix,omitempty"`
	// Request: the client headers sent to the service (besides Host,
	// :method, :path, Content-Length and Authorization, always sent) and
	// headers added.
	Request *ExtAuthHTTPRequest `json:"request,omitempty"`
	// Response: the service's headers copied to the upstream request when
	// it allows, and to the client when it denies (default all).
	Response *ExtAuthHTTPResponse `json:"response,omitempty"`
}

// ExtAuthHTTPRequest says what of the request the service sees.
type ExtAuthHTTPRequest struct {
	AllowedHeaders []string          `json:"allowedHeaders,omitempty"`
	HeadersToAdd   map[string]string `json:"headersToAdd,omitempty"`
}

// ExtAuthHTTPResponse says which of the service's headers go on.
type ExtAuthHTTPResponse struct {
	AllowedUpstreamHeaders []string `json:"allowedUpstreamHeaders,omitempty"`
	AllowedClientHeaders   []string `json:"allowedClientHeaders,omitempty"`
}

// ExtAuthRequestBody sends up to MaxRequestBytes of the body; a larger one
// is refused (413) unless AllowPartialMessage sends its start.
type ExtAuthRequestBody struct {
	MaxRequestBytes     uint32 `json:"maxRequestBytes"`
	AllowPartialMessage bool   `json:"allowPartialMessage,omitempty"`
}

// ExtAuthExtension turns external authorization on for a virtual host or
// route (customAuth, Gloo's name for "the service in settings"), or off
// for a route of a virtual host that has it (disable).
type ExtAuthExtension struct {
	CustomAuth *CustomAuth `json:"customAuth,omitempty"`
	Disable    bool        `json:"disable,omitempty"`
	// ContextExtensions are sent to the service with each check.
	ContextExtensions map[string]string `json:"contextExtensions,omitempty"`
}

// CustomAuth asks the settings' external authorization service.
type CustomAuth struct{}

func validateExtAuthSettings(f *fieldErrors, path string, s *ExtAuthSettings) {
	if s == nil {
		return
	}
	if s.ExtauthzServerRef.Name == "" {
		f.add(path+".extauthzServerRef.name", "is required")
	}
	validateNonNegative(f, path+".requestTimeout", s.RequestTimeout)
	if c := s.StatusOnError; c != nil && (*c < 200 || *c > 599) {
		f.add(path+".statusOnError", "must be between 200 and 599, got %d", *c)
	}
	if b := s.RequestBody; b != nil && b.MaxRequestBytes == 0 {
		f.add(path+".requestBody.maxRequestBytes", "must be positive")
	}
}

func validateExtAuth(f *fieldErrors, path string, e *ExtAuthExtension) {
	if e != nil && e.Disable == (e.CustomAuth != nil) {
		f.add(path, "exactly one of customAuth, disable is required")
	}
}
