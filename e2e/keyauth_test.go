package e2e

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const keyAuthConfig = `apiVersion: gluon.dev/v1
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
    - {key: client, rateLimit: {unit: day, requestsPerUnit: 2}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: app}
spec: {static: {hosts: [{addr: 127.0.0.1, port: APP_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: meta}
spec: {static: {hosts: [{addr: 127.0.0.1, port: META_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: keys}
spec:
  virtualHost:
    domains: [keys.test]
    options:
      apiKeyAuth: {labelSelector: {team: shop}, clientIdHeader: x-client}
    routes:
    - matchers: [{prefix: /metered}]
      options: {ratelimit: {rateLimits: [{actions: [{requestHeaders: {headerName: x-client, descriptorKey: client}}]}]}}
      routeAction: {single: {upstream: {name: app}}}
    - matchers: [{prefix: /meta}]
      options: {apiKeyAuth: {labelSelector: {team: shop}, headersFromMetadataEntry: {x-plan: {name: plan, required: true}}}}
      routeAction: {single: {upstream: {name: meta}}}
    - matchers: [{prefix: /open}]
      options: {apiKeyAuth: {disable: true}}
      routeAction: {single: {upstream: {name: app}}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: app}}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: basic}
spec:
  virtualHost:
    domains: [basic.test]
    options:
      basicAuth: {secretRef: {name: users}, forwardUsernameHeader: x-user}
    routes:
    - matchers: [{prefix: /sha}]
      options: {basicAuth: {secretRef: {name: sha-users}}}
      routeAction: {single: {upstream: {name: app}}}
    - routeAction: {single: {upstream: {name: app}}}
`

// keySecrets are two clients' API keys (and a key of another team), an
// htpasswd Secret with a bcrypt user and a {SHA} user (Gluon's basic auth
// plugin checks it), and one with the {SHA} user only (Envoy's basic_auth).
func keySecrets(aliceKey, bobKey, carolPassword string) string {
	bc, err := bcrypt.GenerateFromPassword([]byte(carolPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	sum := sha1.Sum([]byte("dave-pass"))
	return `apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: alice, labels: {team: shop}}
spec: {apiKey: {apiKey: "` + aliceKey + `", metadata: {client-id: alice, plan: gold}}}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: bob, labels: {team: shop}}
spec: {apiKey: {apiKey: "` + bobKey + `"}}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: eve, labels: {team: other}}
spec: {apiKey: {apiKey: "eve-key-9999"}}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: users}
spec:
  htpasswd:
    users: |
      carol:` + string(bc) + `
      dave:{SHA}` + base64.StdEncoding.EncodeToString(sum[:]) + `
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: sha-users}
spec: {htpasswd: {users: "dave:{SHA}` + base64.StdEncoding.EncodeToString(sum[:]) + `"}}
`
}

// TestAPIKeysAndBasicAuth: keys from Secrets selected by label admit
// their clients (the client's id upstream, the key not), refuse wrong,
// missing and other teams' keys, and follow an edit of a Secret; a rate
// limit counts per client; a route copies a key's metadata to a header.
// Basic auth checks bcrypt and {SHA} users and follows a password change.
// No key or hash shows in /snapshot.
func TestAPIKeysAndBasicAuth(t *testing.T) {
	app := startBackend(t, "app", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("client=" + r.Header.Get("X-Client") + " user=" + r.Header.Get("X-User") + " key=" + r.Header.Get("Api-Key")))
	})
	meta := startBackend(t, "meta", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("plan=" + r.Header.Get("X-Plan") + " internal=" + r.Header.Get("X-Gluon-Api-Key-Client")))
	})
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "gluon.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "APP_PORT", app.port(), "META_PORT", meta.port()).Replace(keyAuthConfig))
	writeFile(t, dir, "secrets.yaml", keySecrets("alice-key-1234", "bob-key-5678", "carol-pass"))
	cp := startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	keys := func(key string) map[string]string { return map[string]string{"Host": "keys.test", "api-key": key} }
	waitFor(t, 20*time.Second, "routes served", func() bool { code, _ := get(t, base+"/", keys("alice-key-1234")); return code == 200 })

	t.Run("a client's key admits it, its id upstream and the key not", func(t *testing.T) {
		for key, want := range map[string]string{"alice-key-1234": "client=alice user= key=", "bob-key-5678": "client=default/bob user= key="} {
			if code, body := get(t, base+"/", keys(key)); code != 200 || body != want {
				t.Errorf("%s: %d %q", key, code, body)
			}
		}
		for name, h := range map[string]map[string]string{"wrong": keys("alice-key-12345"), "other team's": keys("eve-key-9999"),
			"missing": {"Host": "keys.test"}} {
			if code, body := get(t, base+"/", h); code != 401 || body != "Client authentication failed." {
				t.Errorf("%s key: %d %q", name, code, body)
			}
		}
		if code, _ := get(t, base+"/open", map[string]string{"Host": "keys.test"}); code != 200 {
			t.Errorf("a route that opts out: %d", code)
		}
	})
	t.Run("a key's metadata goes upstream in headers, a forged one not", func(t *testing.T) {
		h := keys("alice-key-1234")
		h["X-Plan"] = "platinum"
		if code, body := get(t, base+"/meta", h); code != 200 || body != "plan=gold internal=" {
			t.Errorf("alice: %d %q", code, body)
		}
		if code, _ := get(t, base+"/meta", keys("bob-key-5678")); code != 401 {
			t.Errorf("bob's key lacks the required plan: %d", code)
		}
	})
	t.Run("a rate limit keyed on the client counts per client", func(t *testing.T) {
		for _, key := range []string{"alice-key-1234", "bob-key-5678"} {
			for i, want := range []int{200, 200, 429} {
				if code, _ := get(t, base+"/metered", keys(key)); code != want {
					t.Errorf("%s request %d: %d, want %d", key, i+1, code, want)
				}
			}
		}
	})
	basic := func(user, pass string) map[string]string {
		return map[string]string{"Host": "basic.test", "Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
	}
	t.Run("basic auth checks bcrypt and SHA users", func(t *testing.T) {
		for user, pass := range map[string]string{"carol": "carol-pass", "dave": "dave-pass"} {
			if code, body := get(t, base+"/", basic(user, pass)); code != 200 || body != "client= user="+user+" key=" {
				t.Errorf("%s: %d %q", user, code, body)
			}
		}
		if code, _ := get(t, base+"/", basic("carol", "wrong")); code != 401 {
			t.Errorf("a wrong password: %d", code)
		}
		if code, _ := get(t, base+"/sha", basic("dave", "dave-pass")); code != 200 {
			t.Errorf("a route of {SHA} users only (Envoy's basic_auth): %d", code)
		}
		if code, _ := get(t, base+"/sha", basic("carol", "carol-pass")); code != 401 {
			t.Errorf("a user of another Secret: %d", code)
		}
		code, body, h := getHeaders(t, base+"/", map[string]string{"Host": "basic.test"})
		if code != 401 || !strings.Contains(body, "Missing username and password") || !strings.HasPrefix(h.Get("WWW-Authenticate"), `Basic realm="http://basic.test/"`) {
			t.Errorf("no credentials: %d %q %v", code, body, h)
		}
	})
	t.Run("editing the Secrets rotates keys and passwords", func(t *testing.T) {
		writeFile(t, dir, "secrets.yaml", keySecrets("alice-key-NEW1", "bob-key-5678", "carol-new-pass"))
		waitFor(t, 10*time.Second, "the new key in force", func() bool { code, _ := get(t, base+"/", keys("alice-key-NEW1")); return code == 200 })
		if code, _ := get(t, base+"/", keys("alice-key-1234")); code != 401 {
			t.Errorf("the old key: %d", code)
		}
		if code, _ := get(t, base+"/", basic("carol", "carol-new-pass")); code != 200 {
			t.Errorf("the new password: %d", code)
		}
		if code, _ := get(t, base+"/", basic("carol", "carol-pass")); code != 401 {
			t.Errorf("the old password: %d", code)
		}
	})
	t.Run("no key or hash in /snapshot or /statusz", func(t *testing.T) {
		_, snapshot := get(t, "http://"+cp.admin+"/snapshot", nil)
		_, status := get(t, "http://"+cp.admin+"/statusz", nil)
		for _, secret := range []string{"alice-key-NEW1", "bob-key-5678", "eve-key-9999", "$2a$"} {
			if strings.Contains(snapshot, secret) || strings.Contains(status, secret) {
				t.Errorf("%q shows in /snapshot or /statusz", secret)
			}
		}
	})
}
