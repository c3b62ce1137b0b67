package dataplane

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	jose "github.com/go-jose/go-jose/v4"
)

// testKey is a signing key and its provider with the public key inline.
func testKey(t testing.TB, alg jose.SignatureAlgorithm) (any, *jwtProvider) {
	var priv, pub any
	var err error
	switch alg {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
		var k *rsa.PrivateKey
		k, err = rsa.GenerateKey(rand.Reader, 2048)
		priv, pub = k, &k.PublicKey
	case jose.EdDSA:
		pub, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		curve := map[jose.SignatureAlgorithm]elliptic.Curve{jose.ES256: elliptic.P256(), jose.ES384: elliptic.P384(), jose.ES512: elliptic.P521()}[alg]
		var k *ecdsa.PrivateKey
		k, err = ecdsa.GenerateKey(curve, rand.Reader)
		priv, pub = k, &k.PublicKey
	}
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	p, err := compileJWTProvider("p", &jwtv3.JwtProvider{Issuer: "iss", Audiences: []string{"aud"},
		JwksSourceSpecifier: &jwtv3.JwtProvider_LocalJwks{LocalJwks: inlineSource(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))}})
	if err != nil {
		t.Fatal(err)
	}
	return priv, p
}

func signToken(t testing.TB, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestJWTVerify: times are checked with the clock skew, "none" and HMAC
// tokens are refused whatever they claim.
func TestJWTVerify(t *testing.T) {
	key, p := testKey(t, jose.ES256)
	now := time.Now()
	for name, c := range map[string]struct {
		claims map[string]any
		want   error
	}{
		"valid":                 {map[string]any{"iss": "iss", "aud": []string{"x", "aud"}, "exp": now.Add(time.Minute).Unix()}, nil},
		"expired within skew":   {map[string]any{"iss": "iss", "aud": "aud", "exp": now.Add(-30 * time.Second).Unix()}, nil},
		"expired past skew":     {map[string]any{"iss": "iss", "aud": "aud", "exp": now.Add(-90 * time.Second).Unix()}, errJWTExpired},
		"not yet valid":         {map[string]any{"iss": "iss", "aud": "aud", "nbf": now.Add(2 * time.Minute).Unix()}, errJWTNotYet},
		"no audience":           {map[string]any{"iss": "iss"}, errJWTAudience},
		"audience of another":   {map[string]any{"iss": "iss", "aud": "other"}, errJWTAudience},
		"issuer of another one": {map[string]any{"iss": "other", "aud": "aud"}, errJWTIssuer},
	} {
		_, err := p.verify(context.Background(), signToken(t, jose.ES256, key, c.claims), nil)
		if err != c.want {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	hmac := signToken(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), map[string]any{"iss": "iss", "aud": "aud"})
	if _, err := p.verify(context.Background(), hmac, nil); err != errJWTMalformed {
		t.Errorf("HS256: %v, want it refused", err)
	}
	none := "eyJhbGciOiJub25lIn0.eyJpc3MiOiJpc3MiLCJhdWQiOiJhdWQifQ."
	if _, err := p.verify(context.Background(), none, nil); err != errJWTMalformed {
		t.Errorf("alg none: %v, want it refused", err)
	}
}

// TestJWTAlgorithms: a token signed with any of the algorithms Envoy's
// jwt_authn takes verifies against the provider's PEM public key; one
// signed with another key of the same kind does not.
func TestJWTAlgorithms(t *testing.T) {
	claims := map[string]any{"iss": "iss", "aud": "aud", "exp": time.Now().Add(time.Minute).Unix()}
	for _, alg := range jwtAlgorithms {
		key, p := testKey(t, alg)
		if _, err := p.verify(context.Background(), signToken(t, alg, key, claims), nil); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
		other, _ := testKey(t, alg)
		if _, err := p.verify(context.Background(), signToken(t, alg, other, claims), nil); err != errJWTSignature {
			t.Errorf("%s signed by another key: %v, want %v", alg, err, errJWTSignature)
		}
	}
}

// TestJWTTokenSources: a token is found in a header after its prefix, a
// query parameter or a cookie, in that order; a header without the prefix
// holds none.
func TestJWTTokenSources(t *testing.T) {
	p, err := compileJWTProvider("p", &jwtv3.JwtProvider{FromHeaders: []*jwtv3.JwtHeader{{Name: "X-Token", ValuePrefix: "Token "}},
		FromParams: []string{"jwt"}, FromCookies: []string{"session"},
		JwksSourceSpecifier: &jwtv3.JwtProvider_LocalJwks{LocalJwks: inlineSource(`{"keys": [{"kty": "oct", "k": "AA"}]}`)}})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		set       func(*http.Request)
		tok, from string
	}{
		"header":                {func(r *http.Request) { r.Header.Set("X-Token", "Token h.h.h") }, "h.h.h", "X-Token"},
		"header without prefix": {func(r *http.Request) { r.Header.Set("X-Token", "h.h.h") }, "", ""},
		"query":                 {func(r *http.Request) { r.URL.RawQuery = "a=1&jwt=q.q.q" }, "q.q.q", ""},
		"cookie":                {func(r *http.Request) { r.Header.Set("Cookie", "a=1; session=c.c.c") }, "c.c.c", ""},
		"header before cookie": {func(r *http.Request) {
			r.Header.Set("X-Token", "Token h.h.h")
			r.Header.Set("Cookie", "session=c.c.c")
		}, "h.h.h", "X-Token"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		c.set(r)
		if tok, from := p.token(r); tok != c.tok || from != c.from {
			t.Errorf("%s: %q from %q, want %q from %q", name, tok, from, c.tok, c.from)
		}
	}
}

// BenchmarkJWTVerify measures verifying a token with a cached key: a new
// token, where the signature check dominates; one verified before (the
// token cache); and the signature check alone.
func BenchmarkJWTVerify(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.RS256} {
		key, p := testKey(b, alg)
		tok := signToken(b, alg, key, map[string]any{"iss": "iss", "aud": "aud", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
		b.Run(string(alg), func(b *testing.B) {
			for b.Loop() {
				p.verified.tokens = nil // every token new to the proxy
				if _, err := p.verify(context.Background(), tok, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(alg)+"/token-seen-before", func(b *testing.B) {
			for b.Loop() {
				if _, err := p.verify(context.Background(), tok, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The signature check alone, on a token parsed beforehand: what
		// verification costs at the least.
		jws, err := jose.ParseSigned(tok, jwtAlgorithms)
		if err != nil {
			b.Fatal(err)
		}
		pub := p.local.Keys[0].Key
		b.Run(string(alg)+"/signature-only", func(b *testing.B) {
			for b.Loop() {
				if _, err := jws.Verify(pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func inlineSource(s string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
}

// TestAPIKeyHidden: an admitted key is removed from wherever it came, and
// nothing else with it.
func TestAPIKeyHidden(t *testing.T) {
	key := &apikeyv3.Credential{Key: "k-1", Client: "alice"}
	for name, c := range map[string]struct {
		source  *apikeyv3.KeySource
		request func(*http.Request)
		check   func(*http.Request, *routeMatch) bool
	}{
		"header": {&apikeyv3.KeySource{Header: "x-key"}, func(r *http.Request) { r.Header.Set("X-Key", "k-1") },
			func(r *http.Request, _ *routeMatch) bool { return r.Header.Get("X-Key") == "" }},
		"query": {&apikeyv3.KeySource{Query: "key"}, func(r *http.Request) {},
			func(_ *http.Request, m *routeMatch) bool { return m.target == "/p?a=1" }},
		"cookie": {&apikeyv3.KeySource{Cookie: "key"}, func(r *http.Request) { r.Header.Set("Cookie", "a=1; key=k-1; b=2") },
			func(r *http.Request, _ *routeMatch) bool { return r.Header.Get("Cookie") == "a=1; b=2" }},
	} {
		cfg, err := compileAPIKeyConfig([]*apikeyv3.Credential{key}, []*apikeyv3.KeySource{c.source},
			&apikeyv3.Forwarding{Header: "x-client", HideCredentials: true})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/p?a=1&key=k-1", nil)
		c.request(r)
		m := &routeMatch{target: "/p?a=1&key=k-1"}
		if status, msg := cfg.admit(r, m); status != 0 || r.Header.Get("X-Client") != "alice" || !c.check(r, m) {
			t.Errorf("%s: %d %q, client %q, cookie %q, target %q", name, status, msg, r.Header.Get("X-Client"), r.Header.Get("Cookie"), m.target)
		}
	}
}
