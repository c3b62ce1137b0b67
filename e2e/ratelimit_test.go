package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
	"github.com/gluon-gateway/gluon/xds/ratelimit/redistest"
)

// Limits count per day: fixed windows align to the unit, and a test that
// straddled a minute boundary would see its counters reset.
const rateLimitConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Settings
metadata: {name: settings}
spec:
  ratelimit:
    failureModeDeny: FAILURE_MODE_DENY
    descriptors:
    - key: client
      rateLimit: {unit: day, requestsPerUnit: CLIENT_LIMIT}
    - key: function
      value: default/petstore/findPetById
      rateLimit: {unit: day, requestsPerUnit: 3}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: plain}
spec: {static: {hosts: [{addr: 127.0.0.1, port: PLAIN_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: petstore}
spec: {static: {hosts: [{addr: 127.0.0.1, port: PETSTORE_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: limited}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /local}]
      routeAction: {single: {upstream: {name: plain}}}
      options: {localRatelimit: {maxTokens: 2, tokensPerFill: 2, fillInterval: 1s}}
    - matchers: [{prefix: /global}]
      routeAction: {single: {upstream: {name: plain}}}
      options: {ratelimit: {rateLimits: [{actions: [{requestHeaders: {headerName: x-client, descriptorKey: client}}]}]}}
    - matchers: [{exact: /petstore/findPet}]
      routeAction: {single: {upstream: {name: petstore}, destinationSpec: {rest: {functionName: findPetById, parameters: {headers: {x-pet-id: "{id}"}}}}}}
      options: {ratelimit: {rateLimits: [{actions: [{destinationFunction: {}}]}]}}
    - matchers: [{exact: /petstore/list}]
      routeAction: {single: {upstream: {name: petstore}, destinationSpec: {rest: {functionName: findPets}}}}
      options: {ratelimit: {rateLimits: [{actions: [{destinationFunction: {}}]}]}}
`

type rlInstance struct {
	cp   *controlPlane
	base string
	dir  string
	vars *strings.Replacer
}

func (in *rlInstance) write(t *testing.T, clientLimit, deny string) {
	writeFile(t, in.dir, "config.yaml", strings.NewReplacer("CLIENT_LIMIT", clientLimit, "FAILURE_MODE_DENY", deny).Replace(in.vars.Replace(rateLimitConfig)))
}

// TestRateLimiting runs two gluon instances (each with its embedded data
// plane and rate-limit service) sharing one Redis.
func TestRateLimiting(t *testing.T) {
	redis := redistest.Start(t)
	plain := startBackend(t, "plain", nil)
	store := startBackend(t, "petstore", petstore.Handler(petstore.Swagger2).ServeHTTP)
	var fleet []*rlInstance
	for range 2 {
		gw := freeAddr(t)
		in := &rlInstance{base: "http://" + gw, dir: t.TempDir(),
			vars: strings.NewReplacer("GW_PORT", portOf(gw), "PLAIN_PORT", plain.port(), "PETSTORE_PORT", store.port())}
		in.write(t, "5", "false")
		in.cp = startServeAt(t, &controlPlane{xds: freeAddr(t), admin: freeAddr(t), rls: freeAddr(t), configDir: in.dir, stateDir: t.TempDir(),
			extra: []string{"--redis-addr", redis.Addr}}, "embedded")
		fleet = append(fleet, in)
	}
	a, b := fleet[0], fleet[1]
	for _, in := range fleet {
		waitFor(t, 15*time.Second, "serving", func() bool {
			code, _ := get(t, in.base+"/petstore/list", nil)
			return code == 200
		})
	}
	status := func(in *rlInstance, path string, headers map[string]string) int {
		code, _ := get(t, in.base+path, headers)
		return code
	}

	t.Run("local bucket empties, answers 429, refills", func(t *testing.T) {
		got := []int{status(a, "/local", nil), status(a, "/local", nil), status(a, "/local", nil)}
		if got[0] != 200 || got[1] != 200 || got[2] != 429 {
			t.Fatalf("got %v, want 200 200 429", got)
		}
		time.Sleep(1100 * time.Millisecond)
		if code := status(a, "/local", nil); code != 200 {
			t.Fatalf("after the fill interval: %d", code)
		}
	})
	t.Run("a global limit by client header is shared by both instances", func(t *testing.T) {
		alice := map[string]string{"x-client": "alice"}
		var got []int
		for i := range 6 {
			got = append(got, status(fleet[i%2], "/global", alice))
		}
		allowed := 0
		for _, code := range got[:5] {
			if code == 200 {
				allowed++
			}
		}
		if allowed != 5 || got[5] != 429 {
			t.Fatalf("alice across both instances: %v, want five 200 then 429", got)
		}
		if code := status(b, "/global", map[string]string{"x-client": "bob"}); code != 200 {
			t.Fatalf("bob is counted apart: %d", code)
		}
		resp, err := client.Do(mustRequest(t, b.base+"/global", alice))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("X-Ratelimit-Limit") == "" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("a per-function limit hits only that function", func(t *testing.T) {
		pet := map[string]string{"x-pet-id": "1"}
		got := []int{status(a, "/petstore/findPet", pet), status(b, "/petstore/findPet", pet), status(a, "/petstore/findPet", pet), status(b, "/petstore/findPet", pet)}
		if got[0] != 200 || got[1] != 200 || got[2] != 200 || got[3] != 429 {
			t.Fatalf("findPetById: %v, want 200 200 200 429", got)
		}
		for range 5 {
			if code := status(a, "/petstore/list", nil); code != 200 {
				t.Fatalf("findPets is not limited: %d", code)
			}
		}
	})
	t.Run("limits change on a config edit, counters kept", func(t *testing.T) {
		for _, in := range fleet {
			in.write(t, "9", "false")
		}
		// Every request counts, refused ones too, so the reload is seen
		// with fresh clients: the 6th request of a new client is refused
		// under the old limit (5) and let through under the new one (9).
		// Each instance reloads on its own: both are checked.
		probe := 0
		for _, in := range fleet {
			waitFor(t, 5*time.Second, "new limit applied", func() bool {
				probe++
				fresh := map[string]string{"x-client": "probe-" + itoa(probe)}
				code := 0
				for range 6 {
					code = status(in, "/global", fresh)
				}
				return code == 200
			})
		}
		// alice used 7 of the day's requests before the edit.
		alice := map[string]string{"x-client": "alice"}
		got := []int{status(b, "/global", alice), status(a, "/global", alice), status(b, "/global", alice)}
		if got[0] != 200 || got[1] != 200 || got[2] != 429 {
			t.Fatalf("alice's 8th to 10th requests: %v, want 200 200 429 (a reset counter would allow all)", got)
		}
	})
	t.Run("with Redis stopped the failure mode is honoured", func(t *testing.T) {
		redis.Stop()
		carol := map[string]string{"x-client": "carol"}
		if code := status(a, "/global", carol); code != 200 {
			t.Fatalf("failure mode allow: %d", code)
		}
		a.write(t, "9", "true")
		waitFor(t, 5*time.Second, "failure mode deny", func() bool { return status(a, "/global", carol) == http.StatusInternalServerError })
		if code := status(a, "/plain-is-not-limited", nil); code != 404 {
			t.Fatalf("a route without limits: %d", code)
		}
		redis.Restart()
		waitFor(t, 5*time.Second, "Redis back", func() bool { return status(a, "/global", carol) == 200 })
	})
}

func mustRequest(t *testing.T, url string, headers map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}
