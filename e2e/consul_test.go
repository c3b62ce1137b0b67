package e2e

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	consulapi "github.com/hashicorp/consul/api"

	udsconsul "github.com/gluon-gateway/gluon/uds/consul"
)

// startConsul runs a real Consul agent in -dev mode on loopback ports of
// its own and returns a client of it once it has a leader.
func startConsul(t *testing.T) (string, *consulapi.Client) { return startConsulToken(t, "") }

// startConsulToken starts Consul with extra flags; its client presents
// token.
func startConsulToken(t *testing.T, token string, extra ...string) (string, *consulapi.Client) {
	t.Helper()
	bin := cachedTool(t, "GLUON_CONSUL", "consul-testenv")
	addr := freeAddr(t)
	port := func() string { return portOf(freeAddr(t)) }
	args := append(udsconsul.DevAgentArgs(portOf(addr), port(), port(), port()), "-log-level", "warn")
	startTool(t, bin, append(args, extra...)...)
	cfg := consulapi.DefaultConfig()
	cfg.Address, cfg.Token = addr, token
	c, err := consulapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "consul has a leader", func() bool {
		leader, err := c.Status().Leader()
		return err == nil && leader != ""
	})
	if token != "" {
		// With ACLs on, the management token works only once the leader
		// has bootstrapped the ACL system, a moment after it is elected.
		waitFor(t, 30*time.Second, "consul's ACL system bootstrapped", func() bool {
			_, _, err := c.ACL().TokenReadSelf(nil)
			return err == nil
		})
	}
	return addr, c
}

// registerInstance registers an instance of service at addr in Consul's
// agent with a TTL check that starts passing.
func registerInstance(t *testing.T, c *consulapi.Client, service, id, addr string, tags ...string) {
	t.Helper()
	err := c.Agent().ServiceRegister(&consulapi.AgentServiceRegistration{ID: id, Name: service, Address: "127.0.0.1",
		Port: mustAtoi(t, portOf(addr)), Tags: tags,
		Check: &consulapi.AgentServiceCheck{CheckID: id + "-ttl", TTL: "10m", Status: consulapi.HealthPassing}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestConsulUpstreams: a service registered in Consul with two instances
// becomes the Upstream consul-web and both instances take traffic; failing
// one instance's health check takes it out of rotation within a second,
// under load, and no request fails; a hand-written consul upstream, and
// the one discovered for the tag set [blue], take the instances with that
// tag; deregistering removes the Upstream.
func TestConsulUpstreams(t *testing.T) {
	consulAddr, c := startConsul(t)
	one := startBackend(t, "one", nil)
	two := startBackend(t, "two", nil)
	registerInstance(t, c, "web", "web-1", one.addr, "blue")
	registerInstance(t, c, "web", "web-2", two.addr)

	gw, cp := startGateway(t, `apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: blue-web, labels: {discovery.gluon.dev/function_discovery: disabled}}
spec:
  consul: {serviceName: web, serviceTags: [blue]}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /blue}]
      routeAction: {single: {upstream: {name: blue-web}}}
    - matchers: [{prefix: /tagged}]
      routeAction: {single: {upstream: {name: consul-web-blue}}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: consul-web}}}
`, "--consul-addr", consulAddr, "--consul-tag-upstreams")
	base := "http://" + gw
	seen := map[string]bool{}
	waitFor(t, 15*time.Second, "both instances of consul-web take traffic", func() bool {
		code, body := get(t, base+"/x", nil)
		if code == 200 {
			seen[strings.Fields(body)[0]] = true
		}
		return seen["one"] && seen["two"]
	})
	for range 10 {
		if _, body := get(t, base+"/blue", nil); !strings.HasPrefix(body, "one ") {
			t.Fatalf("the upstream of tag blue answered %q, want instance one only", body)
		}
		if _, body := get(t, base+"/tagged", nil); !strings.HasPrefix(body, "one ") {
			t.Fatalf("the discovered upstream of tag set [blue] answered %q, want instance one only", body)
		}
	}

	t.Run("a failing health check leaves rotation within a second, under load", func(t *testing.T) {
		var failures atomic.Int64
		var mu sync.Mutex
		var lastTwo time.Time
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < 20000; n++ { // bounded: 4 × 20,000 requests at the most
					select {
					case <-stop:
						return
					default:
					}
					code, body := get(t, base+"/load", nil)
					if code != 200 {
						failures.Add(1)
						continue
					}
					if strings.HasPrefix(body, "two ") {
						mu.Lock()
						lastTwo = time.Now()
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(300 * time.Millisecond)
		failed := time.Now()
		if err := c.Agent().UpdateTTL("web-2-ttl", "failing on purpose", consulapi.HealthCritical); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		close(stop)
		wg.Wait()
		mu.Lock()
		took := lastTwo.Sub(failed)
		mu.Unlock()
		if took > time.Second {
			t.Errorf("instance two still took requests %v after its check failed, want within 1s", took)
		}
		if n := failures.Load(); n > 0 {
			t.Errorf("%d requests failed under load", n)
		}
		t.Logf("instance two left rotation %v after its check failed", took)
	})

	t.Run("deregistering the service removes its Upstream", func(t *testing.T) {
		for _, id := range []string{"web-1", "web-2"} {
			if err := c.Agent().ServiceDeregister(id); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 5*time.Second, "consul-web gone", func() bool {
			_, body := get(t, "http://"+cp.admin+"/statusz", nil)
			return !strings.Contains(body, `"consul-web"`) && strings.Contains(body, "upstream default/consul-web not found")
		})
		if code, _ := get(t, base+"/x", nil); code == 200 {
			t.Errorf("the route to a deregistered service still answers 200")
		}
	})
}

// TestConsulKVConfig: Gluon's resources written to Consul's KV store, in
// Gloo's layout, are served: a VirtualService written serves within a
// second, a malformed entry is rejected alone (its key in /statusz) while
// the others keep serving, an entry under the wrong key is refused, and
// deleting a key removes its resource.
func TestConsulKVConfig(t *testing.T) {
	consulAddr, c := startConsul(t)
	backend := startBackend(t, "kv", nil)
	gw := freeAddr(t)
	kv := c.KV()
	put := func(key, value string) {
		t.Helper()
		if _, err := kv.Put(&consulapi.KVPair{Key: key, Value: []byte(value)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	put("gluon/gluon.dev/v1/Gateway/default/http", `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: `+portOf(gw)+`}
`)
	put("gluon/gluon.dev/v1/Upstream/default/kv", `apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: kv, labels: {discovery.gluon.dev/function_discovery: disabled}}
spec:
  static: {hosts: [{addr: 127.0.0.1, port: `+backend.port()+`}]}
`)
	vs := func(name, prefix string) string {
		return `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: ` + name + `}
spec:
  virtualHost:
    domains: [` + name + `.test]
    routes:
    - matchers: [{prefix: ` + prefix + `}]
      routeAction: {single: {upstream: {name: kv}}}
`
	}
	put("gluon/gluon.dev/v1/VirtualService/default/first", vs("first", "/"))
	cp := &controlPlane{xds: freeAddr(t), admin: freeAddr(t), rls: freeAddr(t), stateDir: t.TempDir(),
		extra: []string{"--consul-addr", consulAddr, "--consul-prefix", "gluon/"}}
	cp = startServeAt(t, cp, "embedded")
	base := "http://" + gw
	waitFor(t, 15*time.Second, "the KV config served", func() bool {
		code, _ := get(t, base+"/x", map[string]string{"Host": "first.test"})
		return code == 200
	})

	t.Run("a VirtualService written serves within a second", func(t *testing.T) {
		put("gluon/gluon.dev/v1/VirtualService/default/second", vs("second", "/"))
		took := waitFor(t, 5*time.Second, "the new VirtualService served", func() bool {
			code, _ := get(t, base+"/y", map[string]string{"Host": "second.test"})
			return code == 200
		})
		if took > time.Second {
			t.Errorf("the VirtualService written to KV took %v to serve, want within 1s", took)
		}
	})
	t.Run("a malformed entry is rejected alone, its key in /statusz", func(t *testing.T) {
		put("gluon/gluon.dev/v1/VirtualService/default/broken", "kind: VirtualService\nmetadata: {name: broken\nspec: [")
		put("gluon/gluon.dev/v1/VirtualService/default/misplaced", vs("elsewhere", "/"))
		waitFor(t, 5*time.Second, "both bad entries reported", func() bool {
			_, body := get(t, "http://"+cp.admin+"/statusz", nil)
			return strings.Contains(body, "gluon/gluon.dev/v1/VirtualService/default/broken") &&
				strings.Contains(body, "gluon/gluon.dev/v1/VirtualService/default/misplaced") && strings.Contains(body, "not where its resource belongs")
		})
		for _, host := range []string{"first.test", "second.test"} {
			if code, _ := get(t, base+"/z", map[string]string{"Host": host}); code != 200 {
				t.Errorf("%s after bad entries: %d", host, code)
			}
		}
		if code, _ := get(t, base+"/z", map[string]string{"Host": "elsewhere.test"}); code == 200 {
			t.Error("the resource under the wrong key is served")
		}
	})
	t.Run("gluonctl in Consul mode: create, add route, get, check, delete", func(t *testing.T) {
		ctl := func(args ...string) string {
			t.Helper()
			out, code := runGluonctl(t, append([]string{"--consul-addr", consulAddr, "--consul-prefix", "gluon/", "--admin-addr", cp.admin}, args...)...)
			if code != 0 {
				t.Fatalf("gluonctl %s: exit %d\n%s", strings.Join(args, " "), code, out)
			}
			return out
		}
		if out := ctl("create", "upstream", "static", "ctl", "--static-hosts", backend.addr); !strings.Contains(out, "consul kv gluon/gluon.dev/v1/Upstream/default/ctl") {
			t.Fatalf("create upstream wrote to %q", out)
		}
		ctl("add", "route", "--path-prefix", "/ctl", "--dest-name", "ctl", "--name", "ctl")
		waitFor(t, 5*time.Second, "the route gluonctl added served", func() bool {
			code, body := get(t, base+"/ctl/a", nil)
			return code == 200 && strings.HasPrefix(body, "kv GET /ctl/a")
		})
		if out := ctl("get", "upstreams"); !strings.Contains(out, "ctl") || !strings.Contains(out, "kv") {
			t.Errorf("get upstreams:\n%s", out)
		}
		out, code := runGluonctl(t, "--consul-addr", consulAddr, "--admin-addr", cp.admin, "check")
		if code != 1 || !strings.Contains(out, "default/broken") {
			t.Errorf("check with a malformed entry in KV: exit %d\n%s", code, out)
		}
		ctl("delete", "virtualservice", "ctl")
		waitFor(t, 5*time.Second, "the route gone", func() bool {
			code, _ := get(t, base+"/ctl/a", nil)
			return code == 404
		})
	})
	t.Run("deleting a key removes its resource", func(t *testing.T) {
		if _, err := kv.Delete("gluon/gluon.dev/v1/VirtualService/default/second", nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "second.test gone", func() bool {
			code, _ := get(t, base+"/y", map[string]string{"Host": "second.test"})
			return code == 404
		})
		if code, _ := get(t, base+"/y", map[string]string{"Host": "first.test"}); code != 200 {
			t.Errorf("first.test after a delete: %d", code)
		}
	})
}
