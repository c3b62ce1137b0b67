package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// signer signs test tokens with one key, announced under kid.
type signer struct {
	kid string
	alg jose.SignatureAlgorithm
	key any // private
	pub any
}

func newSigner(t *testing.T, kid string, alg jose.SignatureAlgorithm) *signer {
	t.Helper()
	s := &signer{kid: kid, alg: alg}
	switch alg {
	case jose.ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		s.key, s.pub = k, &k.PublicKey
	case jose.RS256:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		s.key, s.pub = k, &k.PublicKey
	}
	return s
}

func (s *signer) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: s.pub, KeyID: s.kid, Algorithm: string(s.alg), Use: "sig"}
}

// token signs claims; exp defaults to an hour from now.
func (s *signer) token(t *testing.T, claims map[string]any) string {
	t.Helper()
	if _, ok := claims["exp"]; !ok {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: s.key}, (&jose.SignerOptions{}).WithHeader("kid", s.kid).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := sig.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const jwtConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Settings
metadata: {name: settings}
spec:
  ratelimit:
    descriptors:
    - {key: user, rateLimit: {unit: day, requestsPerUnit: 2}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: app}
spec: {static: {hosts: [{addr: 127.0.0.1, port: APP_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: idp}
spec: {static: {hosts: [{addr: 127.0.0.1, port: IDP_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: api}
spec:
  virtualHost:
    options:
      jwt:
        providers:
          idp:
            issuer: https://idp.test
            audiences: [api]
            jwks: {remote: {url: "http://idp.test/jwks.json", upstreamRef: {name: idp}}}
            claimsToHeaders: [{claim: sub, header: x-user}, {claim: tenant.name, header: x-tenant}]
    routes:
    - matchers: [{prefix: /public}]
      options: {jwt: {disable: true}}
      routeAction: {single: {upstream: {name: app}}}
    - matchers: [{prefix: /optional}]
      options: {jwt: {allowMissing: true}}
      routeAction: {single: {upstream: {name: app}}}
    - matchers: [{prefix: /metered}]
      options: {ratelimit: {rateLimits: [{actions: [{requestHeaders: {headerName: x-user, descriptorKey: user}}]}]}}
      routeAction: {single: {upstream: {name: app}}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: app}}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: unreachable}
spec:
  virtualHost:
    domains: [unreachable.test]
    options:
      jwt:
        providers:
          gone: {jwks: {remote: {url: "http://idp.test/moved.json", upstreamRef: {name: idp}}}}
    routes:
    - routeAction: {single: {upstream: {name: app}}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: broken}
spec:
  virtualHost:
    domains: [broken.test]
    options:
      jwt:
        providers:
          bad: {jwks: {local: {key: "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n"}}}
    routes:
    - routeAction: {single: {upstream: {name: app}}}
`

// TestJWT: tokens are verified against a JWKS fetched through an
// Upstream from a real HTTP server: valid ones pass with their claims in
// headers (and the token removed), expired, wrongly addressed or issued
// ones get 401 or 403 with a Bearer challenge; a key added at the JWKS
// server is used, without a restart, for a token that names it; routes
// may opt out or allow a missing token; a rate limit counts per subject;
// a malformed key rejects its virtual service alone.
func TestJWT(t *testing.T) {
	es, rs, rotated := newSigner(t, "es-1", jose.ES256), newSigner(t, "rs-1", jose.RS256), newSigner(t, "es-2", jose.ES256)
	var keys atomic.Value
	keys.Store(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{es.jwk(), rs.jwk()}})
	var fetches atomic.Int32
	idp := startBackend(t, "idp", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks.json" || r.Host != "idp.test" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(keys.Load())
	})
	app := startBackend(t, "app", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("user=" + r.Header.Get("X-User") + " tenant=" + r.Header.Get("X-Tenant") + " authorization=" + r.Header.Get("Authorization")))
	})
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "gluon.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "APP_PORT", app.port(), "IDP_PORT", idp.port()).Replace(jwtConfig))
	cp := startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	waitFor(t, 20*time.Second, "routes served", func() bool { code, _ := get(t, base+"/public", nil); return code == 200 })

	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	claims := func(extra map[string]any) map[string]any {
		c := map[string]any{"iss": "https://idp.test", "aud": "api", "sub": "alice", "tenant": map[string]any{"name": "acme"}}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	t.Run("a valid token passes, its claims in headers and itself removed", func(t *testing.T) {
		for _, s := range []*signer{es, rs} {
			code, body := get(t, base+"/api", bearer(s.token(t, claims(nil))))
			if code != 200 || body != "user=alice tenant=acme authorization=" {
				t.Errorf("%s: %d %q", s.alg, code, body)
			}
		}
		// Envoy's other default place: the access_token query parameter.
		if code, body := get(t, base+"/api?access_token="+es.token(t, claims(nil)), nil); code != 200 || body != "user=alice tenant=acme authorization=" {
			t.Errorf("access_token parameter: %d %q", code, body)
		}
	})
	t.Run("bad tokens are refused as Envoy refuses them", func(t *testing.T) {
		for _, c := range []struct {
			name, tok string
			code      int
			msg       string
		}{
			{"expired", es.token(t, claims(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})), 401, "Jwt is expired"},
			{"wrong audience", es.token(t, claims(map[string]any{"aud": "billing"})), 403, "Audiences in Jwt are not allowed"},
			{"wrong issuer", es.token(t, claims(map[string]any{"iss": "https://evil.test"})), 401, "Jwt issuer is not configured"},
			{"forged signature", forged(es.token(t, claims(nil)), rotated.token(t, claims(nil))), 401, "Jwt verification fails"},
			{"not a token", "abc", 401, "Jwt is not in the form"},
		} {
			code, body, h := getHeaders(t, base+"/api", bearer(c.tok))
			if code != c.code || !strings.Contains(body, c.msg) || h.Get("WWW-Authenticate") != `Bearer realm="http://127.0.0.1/api", error="invalid_token"` {
				t.Errorf("%s: %d %q %v", c.name, code, body, h)
			}
		}
		code, body, h := getHeaders(t, base+"/api", nil)
		if code != 401 || body != "Jwt is missing" || h.Get("WWW-Authenticate") != `Bearer realm="http://127.0.0.1/api"` {
			t.Errorf("no token: %d %q %v", code, body, h)
		}
	})
	t.Run("routes may opt out, or allow a missing token but not a bad one", func(t *testing.T) {
		if code, _ := get(t, base+"/public", nil); code != 200 {
			t.Errorf("public: %d", code)
		}
		if code, body := get(t, base+"/optional", nil); code != 200 || body != "user= tenant= authorization=" {
			t.Errorf("optional without a token: %d %q", code, body)
		}
		if code, _ := get(t, base+"/optional", bearer("abc")); code != 401 {
			t.Errorf("optional with a bad token: %d", code)
		}
	})
	t.Run("a key added at the JWKS server is fetched for a token that names it", func(t *testing.T) {
		tok := rotated.token(t, claims(nil))
		if code, _ := get(t, base+"/api", bearer(tok)); code != 401 {
			t.Fatalf("a token of an unpublished key: %d", code)
		}
		keys.Store(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{rotated.jwk()}})
		before := fetches.Load()
		waitFor(t, 15*time.Second, "the new key used", func() bool { code, _ := get(t, base+"/api", bearer(tok)); return code == 200 })
		if n := fetches.Load() - before; n > 4 {
			t.Errorf("%d JWKS fetches for one new key: unknown kids must not fetch on every request", n)
		}
	})
	t.Run("a rate limit keyed on a claim counts per subject", func(t *testing.T) {
		for _, user := range []string{"bob", "carol"} {
			tok := rotated.token(t, claims(map[string]any{"sub": user}))
			for i, want := range []int{200, 200, 429} {
				if code, _ := get(t, base+"/metered", bearer(tok)); code != want {
					t.Errorf("%s request %d: %d, want %d", user, i+1, code, want)
				}
			}
		}
	})
	t.Run("a malformed key or a JWKS that cannot be fetched rejects its virtual service alone", func(t *testing.T) {
		if state, reason := statusOf(t, cp, "VirtualService", "broken"); state != "Rejected" || !strings.Contains(reason, "PEM public key") {
			t.Errorf("broken: %s %q", state, reason)
		}
		var state, reason string
		waitFor(t, 10*time.Second, "the unreachable JWKS reported", func() bool {
			state, reason = statusOf(t, cp, "VirtualService", "unreachable")
			return state == "Rejected"
		})
		if !strings.Contains(reason, "http://idp.test/moved.json cannot be fetched: status 404") {
			t.Errorf("unreachable: %s %q", state, reason)
		}
		if code, _ := get(t, base+"/", map[string]string{"Host": "unreachable.test"}); code != 500 {
			t.Errorf("a route of the rejected virtual service: %d, want the invalid-route 500", code)
		}
		if code, _ := get(t, base+"/public", nil); code != 200 {
			t.Errorf("the other virtual service: %d", code)
		}
	})
}

// forged is tok with the signature of other: its header and claims are
// tok's, its signature made by another key.
func forged(tok, other string) string {
	return tok[:strings.LastIndexByte(tok, '.')] + other[strings.LastIndexByte(other, '.'):]
}
