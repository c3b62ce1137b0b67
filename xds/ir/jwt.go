package ir

// JWTProvider is a token issuer a listener trusts. Name is unique in the
// proxy; routes name it in their requirement.
type JWTProvider struct {
	Name      string   `json:"name"`
	Issuer    string   `json:"issuer,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
	// LocalJWKS is a JWKS document or a PEM public key; RemoteJWKS, where
	// to fetch one. Exactly one is set.
	LocalJWKS  string      `json:"localJwks,omitempty"`
	RemoteJWKS *RemoteJWKS `json:"remoteJwks,omitempty"`
	// Where the token is: headers (after a prefix), query parameters,
	// cookies; none of them: Authorization: Bearer, and access_token.
	FromHeaders []JWTHeader `json:"fromHeaders,omitempty"`
	FromParams  []string    `json:"fromParams,omitempty"`
	FromCookies []string    `json:"fromCookies,omitempty"`
	// Forward keeps the token in the request sent upstream.
	Forward          bool               `json:"forward,omitempty"`
	ClaimsToHeaders  []JWTClaimToHeader `json:"claimsToHeaders,omitempty"`
	ClockSkewSeconds uint32             `json:"clockSkewSeconds"`
}

// RemoteJWKS is fetched from URI through Cluster and kept CacheDuration.
type RemoteJWKS struct {
	URI           string   `json:"uri"`
	Cluster       string   `json:"cluster"`
	CacheDuration Duration `json:"cacheDuration"`
}

// JWTHeader is a header holding a token after Prefix.
type JWTHeader struct {
	Name   string `json:"name"`
	Prefix string `json:"prefix,omitempty"`
}

// JWTClaimToHeader copies a claim (a dotted path) to a request header.
type JWTClaimToHeader struct {
	Claim  string `json:"claim"`
	Header string `json:"header"`
}

// JWTRequirement is what a route requires: a valid token of any of AnyOf
// or of each of AllOf; AllowMissing lets requests without a token through,
// AllowMissingOrFailed any request. Disabled turns a virtual host's
// requirement off for the route.
type JWTRequirement struct {
	Disabled             bool     `json:"disabled,omitempty"`
	AnyOf                []string `json:"anyOf,omitempty"`
	AllOf                []string `json:"allOf,omitempty"`
	AllowMissing         bool     `json:"allowMissing,omitempty"`
	AllowMissingOrFailed bool     `json:"allowMissingOrFailed,omitempty"`
}
