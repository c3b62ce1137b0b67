package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
)

// TestConsulReplicas: two gluon serve replicas on one KV prefix elect a
// leader with a Consul session lock. The leader discovers functions,
// shares them and writes each resource's status under gluon-status/; the
// follower discovers nothing itself and serves the same snapshot version.
// Stopping the leader moves discovery and status writing to the other;
// killing one moves them once its session expires.
func TestConsulReplicas(t *testing.T) {
	consulAddr, c := startConsul(t)
	kv := c.KV()
	put := func(key, value string) {
		t.Helper()
		if _, err := kv.Put(&consulapi.KVPair{Key: key, Value: []byte(value)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	value := func(key string) string {
		p, _, err := kv.Get(key, nil)
		if err != nil || p == nil {
			return ""
		}
		return string(p.Value)
	}
	pets := startBackend(t, "pets", petstore.Handler(petstore.Swagger2).ServeHTTP)
	registerInstance(t, c, "pets", "pets-1", pets.addr)
	gw := freeAddr(t)
	put("gluon/gluon.dev/v1/Gateway/default/http", "apiVersion: gluon.dev/v1\nkind: Gateway\nmetadata: {name: http}\nspec: {bindAddress: 127.0.0.1, bindPort: "+portOf(gw)+"}\n")
	put("gluon/gluon.dev/v1/VirtualService/default/pets", `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: pets}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /pet}]
      routeAction:
        single:
          upstream: {name: consul-pets}
          destinationSpec: {rest: {functionName: findPetById, parameters: {headers: {x-pet-id: "{id}"}}}}
`)
	replica := func(id, dataplane string) *controlPlane {
		cp := &controlPlane{xds: freeAddr(t), admin: freeAddr(t), rls: freeAddr(t), stateDir: t.TempDir(),
			extra: []string{"--consul-addr", consulAddr, "--consul-prefix", "gluon/", "--consul-replica-id", id}}
		return startServeAt(t, cp, dataplane)
	}
	a := replica("a", "embedded")
	waitFor(t, 10*time.Second, "replica a leads", func() bool { return value("gluon-status/leader") == "a" })
	// The second replica serves xDS only: the gateway port is the first's.
	b := replica("b", "none")
	waitFor(t, 20*time.Second, "the function route served", func() bool {
		code, body := get(t, "http://"+gw+"/pet", map[string]string{"x-pet-id": "2"})
		return code == 200 && strings.Contains(body, `"name":"Tom"`)
	})

	t.Run("both replicas serve the same version; the follower discovers nothing itself", func(t *testing.T) {
		waitFor(t, 10*time.Second, "the same snapshot version on both", func() bool {
			va, vb := servedVersion(t, a), servedVersion(t, b)
			return va != "" && va == vb
		})
		if n := functionCount(t, b, "consul-pets"); n != 5 {
			t.Errorf("the follower serves %d functions of consul-pets, want the leader's 5", n)
		}
		if _, metrics := get(t, "http://"+b.admin+"/metrics", nil); strings.Contains(metrics, "gluon_discovery_polls_total{") {
			t.Error("the follower polled upstreams itself")
		}
	})
	t.Run("the leader writes each resource's status under gluon-status/", func(t *testing.T) {
		waitFor(t, 10*time.Second, "status written by a", func() bool {
			vs := value("gluon-status/gluon.dev/v1/VirtualService/default/pets")
			us := value("gluon-status/gluon.dev/v1/Upstream/default/consul-pets")
			return strings.Contains(vs, "state: Accepted") && strings.Contains(vs, "reportedBy: gluon a") &&
				strings.Contains(us, "functions: 5")
		})
	})
	t.Run("stopping the leader moves discovery and status writing to the other", func(t *testing.T) {
		a.stop(syscall.SIGTERM)
		took := waitFor(t, 10*time.Second, "replica b leads", func() bool { return value("gluon-status/leader") == "b" })
		t.Logf("replica b took the lock %v after a stopped", took)
		put("gluon/gluon.dev/v1/VirtualService/default/broken", "apiVersion: gluon.dev/v1\nkind: VirtualService\nmetadata: {name: broken}\nspec:\n  virtualHost:\n    routes:\n    - matchers: [{prefix: /x}]\n      routeAction: {single: {upstream: {name: nowhere}}}\n")
		waitFor(t, 10*time.Second, "b writes status", func() bool {
			broken := value("gluon-status/gluon.dev/v1/VirtualService/default/broken")
			return strings.Contains(broken, "state: Rejected") && strings.Contains(broken, "reportedBy: gluon b") &&
				strings.Contains(value("gluon-status/gluon.dev/v1/VirtualService/default/pets"), "reportedBy: gluon b")
		})
		more := startBackend(t, "more", petstore.Handler(petstore.OpenAPI31).ServeHTTP)
		registerInstance(t, c, "more", "more-1", more.addr)
		waitFor(t, 20*time.Second, "b discovers the new service's functions and shares them", func() bool {
			return functionCount(t, b, "consul-more") == 5 && value("gluon-status/functions/default/consul-more") != "" &&
				strings.Contains(value("gluon-status/gluon.dev/v1/Upstream/default/consul-more"), "functions: 5")
		})
	})
	t.Run("gluonctl reads the status the leader wrote when no admin endpoint answers", func(t *testing.T) {
		// a's admin address is closed now: gluonctl falls back to Consul.
		out, code := runGluonctl(t, "--consul-addr", consulAddr, "--admin-addr", a.admin, "check")
		if code != 1 || !strings.Contains(out, "default/broken") || !strings.Contains(out, "Consul's gluon-status/") {
			t.Errorf("check from Consul's status prefix: exit %d\n%s", code, out)
		}
		out, code = runGluonctl(t, "--consul-addr", consulAddr, "--admin-addr", a.admin, "get", "virtualservices")
		if code != 0 || !regexp.MustCompile(`broken\s.*Rejected`).MatchString(out) || !regexp.MustCompile(`pets\s.*Accepted`).MatchString(out) {
			t.Errorf("get virtualservices from Consul: exit %d\n%s", code, out)
		}
	})
	t.Run("a leader that dies unannounced is replaced within its session's TTL", func(t *testing.T) {
		replica("c", "none")
		b.stop(syscall.SIGKILL) // no release: the session must expire
		took := waitFor(t, 40*time.Second, "replica c leads", func() bool { return value("gluon-status/leader") == "c" })
		t.Logf("replica c took the lock %v after b was killed (session TTL 10s, lock delay 1s)", took)
		put("gluon/gluon.dev/v1/VirtualService/default/broken", "apiVersion: gluon.dev/v1\nkind: VirtualService\nmetadata: {name: broken}\nspec:\n  virtualHost:\n    routes:\n    - matchers: [{prefix: /y}]\n      routeAction: {single: {upstream: {name: elsewhere}}}\n")
		waitFor(t, 10*time.Second, "c writes status", func() bool {
			broken := value("gluon-status/gluon.dev/v1/VirtualService/default/broken")
			return strings.Contains(broken, "elsewhere") && strings.Contains(broken, "reportedBy: gluon c")
		})
	})
}

// servedVersion is the version of the snapshot cp serves the default
// proxy.
func servedVersion(t *testing.T, cp *controlPlane) string {
	var st struct {
		Snapshots []struct{ Proxy, Version string }
	}
	_, body := get(t, "http://"+cp.admin+"/statusz", nil)
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return ""
	}
	for _, s := range st.Snapshots {
		if s.Proxy == "gateway-proxy" {
			return s.Version
		}
	}
	return ""
}

// functionCount is how many functions cp serves for an upstream.
func functionCount(t *testing.T, cp *controlPlane, upstream string) int {
	var st struct {
		Functions []struct {
			Upstream  struct{ Name string }
			Functions []json.RawMessage
		}
	}
	_, body := get(t, "http://"+cp.admin+"/statusz", nil)
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		return -1
	}
	for _, d := range st.Functions {
		if d.Upstream.Name == upstream {
			return len(d.Functions)
		}
	}
	return 0
}
