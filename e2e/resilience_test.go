package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pool is a set of loopback backends that say who they are, count what
// they get, and can fail, stop and come back on their address.
type pool struct {
	t        *testing.T
	backends []*poolBackend
}

type poolBackend struct {
	name   string
	addr   string
	status atomic.Int32 // what requests other than /healthz get
	hits   atomic.Int64
	srv    *http.Server
}

func startPool(t *testing.T, n int) *pool {
	p := &pool{t: t}
	for i := range n {
		b := &poolBackend{name: fmt.Sprintf("b%d", i)}
		b.status.Store(http.StatusOK)
		p.backends = append(p.backends, b)
		b.start(t, "127.0.0.1:0")
	}
	return p
}

func (b *poolBackend) start(t *testing.T, addr string) {
	t.Helper()
	var lis net.Listener
	var err error
	// A restart binds the port it had; give the kernel a moment if needed.
	waitFor(t, 5*time.Second, "bind "+addr, func() bool { lis, err = net.Listen("tcp", addr); return err == nil })
	b.addr = lis.Addr().String()
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", b.name)
		if r.URL.Path == "/healthz" {
			return
		}
		b.hits.Add(1)
		w.WriteHeader(int(b.status.Load()))
		fmt.Fprint(w, b.name)
	})}
	go b.srv.Serve(lis)
	srv := b.srv
	t.Cleanup(func() { srv.Close() })
}

func (p *pool) hosts() string {
	var hs []string
	for _, b := range p.backends {
		hs = append(hs, fmt.Sprintf("{addr: 127.0.0.1, port: %s}", portOf(b.addr)))
	}
	return "[" + strings.Join(hs, ", ") + "]"
}

func (p *pool) byName(name string) *poolBackend {
	for _, b := range p.backends {
		if b.name == name {
			return b
		}
	}
	p.t.Fatalf("no backend %q answered", name)
	return nil
}

// servePool starts gluon serve with one Gateway and the given upstreams and
// virtual services, and waits until path answers.
func servePool(t *testing.T, config, path string) (string, *controlPlane) {
	t.Helper()
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", poolGateway(gw)+config)
	cp := startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	waitFor(t, 10*time.Second, "config served", func() bool { code, _ := get(t, base+path, nil); return code == 200 })
	return base, cp
}

// servePoolUpstream serves the pool as upstream "pool" with the given
// option line, behind a catch-all route.
func servePoolUpstream(t *testing.T, p *pool, option string) (string, *controlPlane) {
	t.Helper()
	return servePool(t, `apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: pool, labels: {discovery.gluon.dev/function_discovery: disabled}}
spec:
  static: {hosts: `+p.hosts()+`}
  `+option+`
---
`+routeAllTo("pool"), "/warm")
}

func poolGateway(addr string) string {
	return `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: ` + portOf(addr) + `}
---
`
}

// call sends one request and returns its status and the backend that answered.
func call(t *testing.T, url string, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Backend")
}

// endpointStates reads /statusz: each endpoint's health in cluster.
func endpointStates(t *testing.T, cp *controlPlane, cluster string) map[string]string {
	t.Helper()
	_, body := get(t, "http://"+cp.admin+"/statusz", nil)
	var st struct {
		EndpointHealth []struct {
			Cluster   string
			Endpoints []struct{ Address, Health string }
		}
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("statusz: %v", err)
	}
	out := map[string]string{}
	for _, c := range st.EndpointHealth {
		if c.Cluster == cluster {
			for _, e := range c.Endpoints {
				out[e.Address] = e.Health
			}
		}
	}
	return out
}

// TestOutlierDetection: one of three endpoints answering 500 is ejected
// after 3 failures in a row, gets no traffic while ejected, and returns.
func TestOutlierDetection(t *testing.T) {
	p := startPool(t, 3)
	bad := p.backends[0]
	bad.status.Store(http.StatusInternalServerError)
	const ejection = 2 * time.Second
	base, cp := servePoolUpstream(t, p, "outlierDetection: {consecutive5xx: 3, interval: 1s, baseEjectionTime: 2s, maxEjectionPercent: 50}")
	failures := 0
	var ejectedAt time.Time
	for i := 0; i < 30 && ejectedAt.IsZero(); i++ {
		code, _ := call(t, base+"/x", nil)
		if code == 500 {
			failures++
		}
		if endpointStates(t, cp, "pool_default")[bad.addr] == "ejected" {
			ejectedAt = time.Now()
		}
	}
	if ejectedAt.IsZero() {
		t.Fatalf("the failing endpoint was never ejected (%d failures seen)", failures)
	}
	if n := bad.hits.Load(); n != 3 {
		t.Errorf("the failing endpoint was ejected after %d requests, want 3", n)
	}
	before := bad.hits.Load()
	for i := 0; i < 200 && time.Since(ejectedAt) < ejection*3/4; i++ {
		if code, who := call(t, base+"/x", nil); code != 200 {
			t.Fatalf("while ejected: %d from %s", code, who)
		}
	}
	if n := bad.hits.Load() - before; n != 0 {
		t.Errorf("the ejected endpoint got %d requests during its ejection", n)
	}
	bad.status.Store(http.StatusOK)
	waitFor(t, ejection*3, "the endpoint to return", func() bool {
		call(t, base+"/x", nil)
		return bad.hits.Load() > before
	})
	t.Logf("ejected after %d failures; back %s after the ejection began", failures, time.Since(ejectedAt).Round(time.Millisecond))
}

// TestHealthChecks: killing an endpoint takes it out of rotation within two
// intervals, with no failure seen by clients after that; restarting it
// brings it back. gluonctl and /statusz show it unhealthy meanwhile.
func TestHealthChecks(t *testing.T) {
	p := startPool(t, 3)
	const interval = 500 * time.Millisecond
	base, cp := servePoolUpstream(t, p,
		"healthChecks: [{timeout: 250ms, interval: 500ms, unhealthyThreshold: 2, healthyThreshold: 1, httpHealthCheck: {path: /healthz}}]")
	victim := p.backends[1]
	victim.srv.Close()
	time.Sleep(2*interval + 200*time.Millisecond)
	if got := endpointStates(t, cp, "pool_default")[victim.addr]; got != "unhealthy" {
		t.Fatalf("two intervals after the kill, /statusz says the endpoint is %q", got)
	}
	out := mustGluonctl(t, cp, "get", "upstreams")
	if !strings.Contains(out, victim.addr+" unhealthy") || !strings.Contains(out, "health check: http GET /healthz every 500ms") {
		t.Errorf("gluonctl get upstreams does not show the health:\n%s", out)
	}
	for range 60 {
		if code, who := call(t, base+"/x", nil); code != 200 || who == victim.name {
			t.Fatalf("after the endpoint left rotation: %d from %q", code, who)
		}
	}
	// gluon serve's /metrics has its embedded data plane's statistics.
	if _, metrics := get(t, "http://"+cp.admin+"/metrics", nil); !strings.Contains(metrics, `envoy_cluster_upstream_rq_xx{envoy_cluster_name="pool_default",envoy_response_code_class="2"}`) {
		t.Error("gluon serve's /metrics lacks the embedded data plane's cluster statistics")
	}
	before := victim.hits.Load()
	victim.start(t, victim.addr)
	waitFor(t, 4*interval, "the restarted endpoint to take traffic", func() bool {
		call(t, base+"/x", nil)
		return victim.hits.Load() > before
	})
}

// TestStickySessions: with a ring hash upstream hashed by cookie and a
// maglev one by header, 200 requests with the same key land on one
// endpoint; removing that endpoint moves them, without errors, to one
// other. A cookie policy with a TTL hands out the cookie itself.
func TestStickySessions(t *testing.T) {
	p := startPool(t, 3)
	upstreams := func(hosts string) string {
		return `apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: ring, labels: {discovery.gluon.dev/function_discovery: disabled}}
spec:
  static: {hosts: ` + hosts + `}
  loadBalancerConfig: {ringHash: {}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: maglev, labels: {discovery.gluon.dev/function_discovery: disabled}}
spec:
  static: {hosts: ` + hosts + `}
  loadBalancerConfig: {maglev: {}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /cart}]
      options: {lbHash: {hashPolicies: [{cookie: {name: session, ttl: 1h, path: /}}]}}
      routeAction: {single: {upstream: {name: ring}}}
    - matchers: [{prefix: /user}]
      options: {lbHash: {hashPolicies: [{header: x-user}]}}
      routeAction: {single: {upstream: {name: maglev}}}
`
	}
	base, cp := servePool(t, upstreams(p.hosts()), "/cart")
	keys := []struct {
		path    string
		headers map[string]string
	}{
		{"/cart", map[string]string{"Cookie": "session=alice"}},
		{"/user", map[string]string{"X-User": "bob"}},
	}
	sticky := func(path string, h map[string]string) string {
		t.Helper()
		seen := map[string]int{}
		for range 200 {
			code, who := call(t, base+path, h)
			if code != 200 {
				t.Fatalf("%s: %d", path, code)
			}
			seen[who]++
		}
		if len(seen) != 1 {
			t.Fatalf("%s with %v spread over %v", path, h, seen)
		}
		for who := range seen {
			return who
		}
		return ""
	}
	first := sticky(keys[0].path, keys[0].headers)
	sticky(keys[1].path, keys[1].headers)

	// Remove alice's endpoint from the upstreams while she keeps calling.
	var rest []*poolBackend
	for _, b := range p.backends {
		if b.name != first {
			rest = append(rest, b)
		}
	}
	writeFile(t, cp.configDir, "config.yaml", poolGatewayOf(t, base)+upstreams((&pool{backends: rest}).hosts()))
	moved := false
	for i := 0; i < 400 && !moved; i++ {
		code, who := call(t, base+"/cart", keys[0].headers)
		if code != 200 {
			t.Fatalf("while the endpoint was removed: %d", code)
		}
		moved = who != first
		time.Sleep(10 * time.Millisecond)
	}
	if !moved {
		t.Fatal("the session never moved off the removed endpoint")
	}
	if second := sticky(keys[0].path, keys[0].headers); second == first {
		t.Fatalf("the session is still on the removed endpoint %s", first)
	}

	// No cookie: the gateway sets one; with it, the client sticks.
	req, _ := http.NewRequest(http.MethodGet, base+"/cart", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != "session" || cookies[0].MaxAge != 3600 {
		t.Fatalf("Set-Cookie %v", resp.Header["Set-Cookie"])
	}
	sticky("/cart", map[string]string{"Cookie": "session=" + cookies[0].Value})
}

// poolGatewayOf is the Gateway document for the gateway at base.
func poolGatewayOf(t *testing.T, base string) string {
	t.Helper()
	return poolGateway(strings.TrimPrefix(base, "http://"))
}

// TestRetriableStatusCodes: a route retrying 409 under
// retriable-status-codes answers what the retry got; a 500 is not retried.
func TestRetriableStatusCodes(t *testing.T) {
	var calls atomic.Int64
	flaky := func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case r.URL.Path == "/conflict" && n%2 == 1:
			w.WriteHeader(http.StatusConflict)
		case r.URL.Path == "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		}
	}
	base := serveOneUpstream(t, flaky, "", `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /}]
      options: {retries: {retryOn: retriable-status-codes, retriableStatusCodes: [409], numRetries: 1}}
      routeAction: {single: {upstream: {name: a}}}
`)
	calls.Store(0)
	if code, _ := get(t, base+"/conflict", nil); code != 200 || calls.Load() != 2 {
		t.Errorf("a 409 then a 200: the client got %d after %d calls, want 200 after 2", code, calls.Load())
	}
	calls.Store(0)
	if code, _ := get(t, base+"/broken", nil); code != 500 || calls.Load() != 1 {
		t.Errorf("a 500 (not listed): the client got %d after %d calls, want 500 after 1", code, calls.Load())
	}
}
