package dataplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	jose "github.com/go-jose/go-jose/v4"
)

// jwtAlgorithms are the signature algorithms accepted, as Envoy's: RSA
// (PKCS#1 v1.5 and PSS), ECDSA and EdDSA; never "none" or HMAC.
var jwtAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// jwtError is why a token failed, with Envoy's message and status.
type jwtError struct {
	status int
	msg    string
}

func (e *jwtError) Error() string { return e.msg }

// Envoy's failures (its jwt_verify_lib status strings).
var (
	errJWTMissing    = &jwtError{http.StatusUnauthorized, "Jwt is missing"}
	errJWTMalformed  = &jwtError{http.StatusUnauthorized, "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"}
	errJWTIssuer     = &jwtError{http.StatusUnauthorized, "Jwt issuer is not configured"}
	errJWTAudience   = &jwtError{http.StatusForbidden, "Audiences in Jwt are not allowed"}
	errJWTExpired    = &jwtError{http.StatusUnauthorized, "Jwt is expired"}
	errJWTNotYet     = &jwtError{http.StatusUnauthorized, "Jwt not yet valid"}
	errJWTNoKey      = &jwtError{http.StatusUnauthorized, "Jwks doesn't have key to match kid or alg from Jwt"}
	errJWTSignature  = &jwtError{http.StatusUnauthorized, "Jwt verification fails"}
	errJWKSFetchFail = &jwtError{http.StatusUnauthorized, "Jwks remote fetch is failed"}
)

// jwtProvider is a compiled JwtProvider.
type jwtProvider struct {
	name      string
	issuer    string
	audiences []string
	local     *jose.JSONWebKeySet
	remote    *remoteJWKS
	headers   []*jwtv3.JwtHeader
	params    []string
	cookies   []string
	forward   bool
	claims    []*jwtv3.JwtClaimToHeader
	skew      time.Duration
	verified  tokenCache
}

func compileJWTProvider(name string, p *jwtv3.JwtProvider) (*jwtProvider, error) {
	if err := onlyFields(p, "issuer", "audiences", "local_jwks", "remote_jwks", "from_headers", "from_params", "from_cookies",
		"forward", "claim_to_headers", "clock_skew_seconds"); err != nil {
		return nil, err
	}
	out := &jwtProvider{name: name, issuer: p.GetIssuer(), audiences: p.GetAudiences(), headers: p.GetFromHeaders(),
		params: p.GetFromParams(), cookies: p.GetFromCookies(), forward: p.GetForward(), claims: p.GetClaimToHeaders(),
		skew: time.Duration(p.GetClockSkewSeconds()) * time.Second}
	if p.ClockSkewSeconds == 0 {
		out.skew = 60 * time.Second // Envoy's default
	}
	if len(out.headers) == 0 && len(out.params) == 0 && len(out.cookies) == 0 {
		// Envoy's default places: a bearer token, or access_token.
		out.headers = []*jwtv3.JwtHeader{{Name: "Authorization", ValuePrefix: "Bearer "}}
		out.params = []string{"access_token"}
	}
	switch {
	case p.GetLocalJwks() != nil:
		set, err := parseJWKS([]byte(p.GetLocalJwks().GetInlineString()))
		if err != nil {
			return nil, fmt.Errorf("local_jwks: %w", err)
		}
		out.local = set
	case p.GetRemoteJwks() != nil:
		r, err := compileRemoteJWKS(p.GetRemoteJwks())
		if err != nil {
			return nil, fmt.Errorf("remote_jwks: %w", err)
		}
		out.remote = r
	default:
		return nil, errors.New("local_jwks or remote_jwks is required")
	}
	return out, nil
}

func compileRemoteJWKS(r *jwtv3.RemoteJwks) (*remoteJWKS, error) {
	if err := onlyFields(r, "http_uri", "cache_duration"); err != nil {
		return nil, err
	}
	hu := r.GetHttpUri()
	u, err := url.Parse(hu.GetUri())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("http_uri.uri %q is not an http(s) URL", hu.GetUri())
	}
	timeout, err := duration(hu.GetTimeout())
	if err != nil {
		return nil, fmt.Errorf("http_uri.timeout: %w", err)
	}
	cacheFor := 5 * time.Minute // Envoy's default
	if r.GetCacheDuration() != nil {
		if cacheFor, err = duration(r.GetCacheDuration()); err != nil {
			return nil, fmt.Errorf("cache_duration: %w", err)
		}
	}
	return &remoteJWKS{uri: u, cluster: hu.GetCluster(), timeout: timeout, cacheFor: cacheFor}, nil
}

// token finds the provider's token in the request: where it is, to remove
// it when not forwarded; "" when there is none.
func (p *jwtProvider) token(r *http.Request) (tok, header string) {
	for _, h := range p.headers {
		for _, v := range r.Header.Values(h.GetName()) {
			if t, ok := strings.CutPrefix(v, h.GetValuePrefix()); ok && t != "" {
				return strings.TrimSpace(t), h.GetName()
			}
		}
	}
	if len(p.params) > 0 && r.URL.RawQuery != "" {
		q := r.URL.Query()
		for _, name := range p.params {
			if t := q.Get(name); t != "" {
				return t, ""
			}
		}
	}
	for _, name := range p.cookies {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return c.Value, ""
		}
	}
	return "", ""
}

// verify checks a token as Envoy's jwt_authn does: its form, issuer,
// audiences and times, then its signature with a key of the provider's
// set. It returns the verified payload's claims.
// A token verified before is taken from the provider's cache (Envoy's
// jwt_cache_config, on by default) until it expires.
func (p *jwtProvider) verify(ctx context.Context, tok string, clusters map[string]*upstreamCluster) (map[string]any, error) {
	now := time.Now()
	if claims, ok := p.verified.get(tok, now); ok {
		return claims, nil
	}
	jws, err := jose.ParseSigned(tok, jwtAlgorithms)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errJWTMalformed
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(jws.UnsafePayloadWithoutVerification()))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, errJWTMalformed
	}
	if iss, _ := claims["iss"].(string); p.issuer != "" && iss != p.issuer {
		return nil, errJWTIssuer
	}
	if len(p.audiences) > 0 && !p.audienceAllowed(claims["aud"]) {
		return nil, errJWTAudience
	}
	exp, hasExp := numericDate(claims["exp"])
	if hasExp && now.After(exp.Add(p.skew)) {
		return nil, errJWTExpired
	}
	if t, ok := numericDate(claims["nbf"]); ok && now.Add(p.skew).Before(t) {
		return nil, errJWTNotYet
	}
	if err := p.checkSignature(ctx, jws, clusters); err != nil {
		return nil, err
	}
	if hasExp {
		p.verified.put(tok, claims, exp.Add(p.skew))
	}
	return claims, nil
}

// checkSignature verifies with the key the token's kid names, or with
// each key of a matching algorithm when it names none.
func (p *jwtProvider) checkSignature(ctx context.Context, jws *jose.JSONWebSignature, clusters map[string]*upstreamCluster) error {
	h := jws.Signatures[0].Header
	set := p.local
	if p.remote != nil {
		var err error
		if set, err = p.remote.keys(ctx, clusters, h.KeyID); err != nil {
			return errJWKSFetchFail
		}
	}
	var candidates []jose.JSONWebKey
	if h.KeyID != "" {
		candidates = set.Key(h.KeyID)
	} else {
		candidates = set.Keys
	}
	tried := false
	for _, k := range candidates {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		tried = true
		if _, err := jws.Verify(k.Key); err == nil {
			return nil
		}
	}
	if !tried {
		return errJWTNoKey
	}
	return errJWTSignature
}

// audienceAllowed: the aud claim, a string or a list, names one of the
// provider's audiences.
func (p *jwtProvider) audienceAllowed(aud any) bool {
	switch a := aud.(type) {
	case string:
		return slices.Contains(p.audiences, a)
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok && slices.Contains(p.audiences, s) {
				return true
			}
		}
	}
	return false
}

// numericDate is a JWT NumericDate claim (seconds, maybe fractional).
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// claimHeaders copies the configured claims of a verified token to the
// request's headers: strings as they are, other values as JSON.
func (p *jwtProvider) claimHeaders(h http.Header, claims map[string]any) {
	for _, c := range p.claims {
		v, ok := claimAt(claims, c.GetClaimName())
		if !ok {
			continue
		}
		s, isString := v.(string)
		if !isString {
			b, err := json.Marshal(v)
			if err != nil {
				continue
			}
			s = string(b)
		}
		h.Set(c.GetHeaderName(), s)
	}
}

// claimAt follows a dotted path into nested claims.
func claimAt(claims map[string]any, path string) (any, bool) {
	var v any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[part]; !ok {
			return nil, false
		}
	}
	return v, true
}
