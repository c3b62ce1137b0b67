package api

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// JWTConfig verifies JSON Web Tokens on a virtual host's routes (Gloo's
// jwt option): a request must carry a valid token of one of the
// providers, unless a route says otherwise.
type JWTConfig struct {
	// Providers are the token issuers trusted, by name.
	Providers map[string]JWTProvider `json:"providers"`
	// AllowMissingOrFailedJWT lets requests without a valid token through
	// (unverified); a valid one still has its claims copied to headers.
	AllowMissingOrFailedJWT bool `json:"allowMissingOrFailedJwt,omitempty"`
}

// JWTProvider is one issuer: who signs, for whom, with which keys, where
// the token is found and what of it goes upstream.
type JWTProvider struct {
	// Issuer must be the token's iss; empty accepts any.
	Issuer string `json:"issuer,omitempty"`
	// Audiences, when set, must include one of the token's aud.
	Audiences []string `json:"audiences,omitempty"`
	JWKS      JWKS     `json:"jwks"`
	// TokenSource says where the token is; default the Authorization
	// header (Bearer) and the access_token query parameter.
	TokenSource *JWTTokenSource `json:"tokenSource,omitempty"`
	// KeepToken forwards the token upstream; by default it is removed.
	KeepToken bool `json:"keepToken,omitempty"`
	// ClaimsToHeaders copy claims of a verified token to request headers.
	ClaimsToHeaders []JWTClaimToHeader `json:"claimsToHeaders,omitempty"`
	// ClockSkewSeconds tolerates clocks that differ (default 60).
	ClockSkewSeconds *uint32 `json:"clockSkewSeconds,omitempty"`
}

// JWKS are a provider's public keys: inline, or fetched from a URL
// through an Upstream, cached, and fetched again for a key id not seen.
type JWKS struct {
	Local  *LocalJWKS  `json:"local,omitempty"`
	Remote *RemoteJWKS `json:"remote,omitempty"`
}

// LocalJWKS is a JWKS document (JSON) or a PEM public key.
type LocalJWKS struct {
	Key string `json:"key"`
}

// RemoteJWKS is fetched from URL through UpstreamRef (its endpoints, TLS).
type RemoteJWKS struct {
	URL         string      `json:"url"`
	UpstreamRef ResourceRef `json:"upstreamRef"`
	// CacheDuration is how long fetched keys are used (default 5m).
	CacheDuration *metav1.Duration `json:"cacheDuration,omitempty"`
}

// JWTTokenSource lists where a token may be: headers (with a prefix such
// as "Bearer "), query parameters and cookies.
type JWTTokenSource struct {
	Headers     []JWTHeaderSource `json:"headers,omitempty"`
	QueryParams []string          `json:"queryParams,omitempty"`
	Cookies     []string          `json:"cookies,omitempty"`
}

// JWTHeaderSource is a header holding a token after Prefix.
type JWTHeaderSource struct {
	Header string `json:"header"`
	Prefix string `json:"prefix,omitempty"`
}

// JWTClaimToHeader copies a claim (a dotted path into nested objects) to
// a request header, replacing what the client sent in it.
type JWTClaimToHeader struct {
	Claim  string `json:"claim"`
	Header string `json:"header"`
}

// RouteJWT is a route's own token requirement, over its virtual host's:
// none (Disable), any or all of some providers, or tokens optional.
type RouteJWT struct {
	Disable bool `json:"disable,omitempty"`
	// RequireAny accepts a valid token of any of these providers; default
	// any of the virtual host's.
	RequireAny []string `json:"requireAny,omitempty"`
	// RequireAll needs a valid token of each of these providers.
	RequireAll []string `json:"requireAll,omitempty"`
	// AllowMissing lets a request with no token through, unverified; a
	// token that is there must be valid.
	AllowMissing bool `json:"allowMissing,omitempty"`
}

func validateJWT(f *fieldErrors, path string, c *JWTConfig) {
	if c == nil {
		return
	}
	if len(c.Providers) == 0 {
		f.add(path+".providers", "at least one provider is required")
	}
	for _, name := range slices.Sorted(maps.Keys(c.Providers)) {
		validateJWTProvider(f, fmt.Sprintf("%s.providers[%s]", path, name), c.Providers[name])
	}
}

func validateJWTProvider(f *fieldErrors, path string, p JWTProvider) {
	switch j := p.JWKS; {
	case (j.Local == nil) == (j.Remote == nil):
		f.add(path+".jwks", "exactly one of local, remote is required")
	case j.Local != nil:
		if err := CheckJWKS(j.Local.Key); err != nil {
			f.add(path+".jwks.local.key", "%v", err)
		}
	case j.Remote != nil:
		if u, err := url.Parse(j.Remote.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			f.add(path+".jwks.remote.url", "%q is not an http(s) URL", j.Remote.URL)
		}
		if j.Remote.UpstreamRef.Name == "" {
			f.add(path+".jwks.remote.upstreamRef.name", "is required: the JWKS is fetched through an Upstream")
		}
		validateNonNegative(f, path+".jwks.remote.cacheDuration", j.Remote.CacheDuration)
	}
	for i, c := range p.ClaimsToHeaders {
		if c.Claim == "" || c.Header == "" {
			f.add(idx(path+".claimsToHeaders", i), "claim and header are required")
		}
	}
	if s := p.TokenSource; s != nil {
		for i, h := range s.Headers {
			if h.Header == "" {
				f.add(idx(path+".tokenSource.headers", i)+".header", "is required")
			}
		}
	}
}

func validateRouteJWT(f *fieldErrors, path string, r *RouteJWT) {
	if r == nil {
		return
	}
	if r.Disable && (len(r.RequireAny) > 0 || len(r.RequireAll) > 0 || r.AllowMissing) {
		f.add(path, "disable takes no requirement")
	}
	if len(r.RequireAny) > 0 && len(r.RequireAll) > 0 {
		f.add(path, "only one of requireAny, requireAll may be set")
	}
}

// CheckJWKS checks that key is a JWKS document with keys, or a PEM public
// key, as far as the standard library tells: the proxy parses it fully.
func CheckJWKS(key string) error {
	if block, _ := pem.Decode([]byte(key)); block != nil {
		if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			return fmt.Errorf("PEM public key: %w", err)
		}
		return nil
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(key), &set); err != nil {
		return fmt.Errorf("neither a PEM public key nor a JWKS document: %w", err)
	}
	if len(set.Keys) == 0 {
		return errors.New("the JWKS document has no keys")
	}
	for i, k := range set.Keys {
		if kty, _ := k["kty"].(string); kty == "" {
			return fmt.Errorf("key %d has no kty", i)
		}
	}
	return nil
}
