package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
)

// startPrometheus runs a real Prometheus on 127.0.0.1 scraping targets
// (host:port, path /metrics) every second; it returns its API's base URL.
func startPrometheus(t *testing.T, targets ...string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed (scripts/test installs the Debian package): %v", err)
	}
	dir := t.TempDir()
	var list string
	for i, tg := range targets {
		if i > 0 {
			list += ", "
		}
		list += `"` + tg + `"`
	}
	writeFile(t, dir, "prometheus.yml", `global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: gluon
  static_configs: [{targets: [`+list+`]}]
`)
	addr := freeAddr(t)
	startTool(t, bin, "--config.file="+dir+"/prometheus.yml", "--storage.tsdb.path="+dir+"/data",
		"--web.listen-address="+addr, "--log.level=warn")
	base := "http://" + addr
	waitFor(t, 20*time.Second, "prometheus ready", func() bool { code, _ := get(t, base+"/-/ready", nil); return code == 200 })
	return base
}

// promValue asks Prometheus a PromQL question whose answer is one number;
// ok is false while it has none.
func promValue(t *testing.T, base, query string) (float64, bool) {
	t.Helper()
	code, body := get(t, base+"/api/v1/query?query="+url.QueryEscape(query), nil)
	if code != 200 {
		return 0, false
	}
	var resp struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil || len(resp.Data.Result) != 1 {
		return 0, false
	}
	s, _ := resp.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// TestPrometheusMetrics: a real Prometheus scraping gluon serve and gluon
// dataplane counts, under Envoy's names, the requests sent through a route
// by cluster and code class, and moves the retry, timeout and
// rate-limited counters; it sees the control plane's resources, clients
// and pushes.
func TestPrometheusMetrics(t *testing.T) {
	backend := func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			time.Sleep(500 * time.Millisecond)
		case "/flaky":
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}
	a := startBackend(t, "a", backend)
	pets := startBackend(t, "petstore", petstore.Handler(petstore.Swagger2).ServeHTTP)
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", poolGateway(gw)+`apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: a}
spec: {static: {hosts: [{addr: 127.0.0.1, port: `+a.port()+`}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: petstore}
spec: {static: {hosts: [{addr: 127.0.0.1, port: `+pets.port()+`}]}}
---
apiVersion: gluon.dev/v1
kind: Settings
metadata: {name: settings}
spec:
  ratelimit:
    descriptors:
    - {key: client, rateLimit: {unit: day, requestsPerUnit: 1}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /slow}]
      options: {timeout: 100ms}
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{prefix: /flaky}]
      options: {retries: {retryOn: 5xx, numRetries: 1}}
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{prefix: /limited}]
      options: {localRatelimit: {maxTokens: 1, tokensPerFill: 1, fillInterval: 1h}}
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{exact: /pet}]
      routeAction:
        single:
          upstream: {name: petstore}
          destinationSpec: {rest: {functionName: findPetById, parameters: {headers: {x-pet-id: "{id}"}}}}
    - matchers: [{prefix: /global}]
      options: {ratelimit: {rateLimits: [{actions: [{requestHeaders: {headerName: x-client, descriptorKey: client}}]}]}}
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
`)
	cp := startServe(t, dir, t.TempDir(), "none")
	dpAdmin := freeAddr(t)
	startGluon(t, "dataplane", "--xds-addr", cp.xds, "--node-id", "metrics", "--admin-addr", dpAdmin)
	base := "http://" + gw
	waitFor(t, 10*time.Second, "config served", func() bool { code, _ := get(t, base+"/warm", nil); return code == 200 })
	waitFor(t, 10*time.Second, "function discovered", func() bool {
		code, _ := get(t, base+"/pet", map[string]string{"x-pet-id": "2"})
		return code == 200
	})
	prom := startPrometheus(t, cp.admin, dpAdmin)

	const n = 37
	for range n {
		if code, _ := get(t, base+"/x", nil); code != 200 {
			t.Fatalf("a request got %d", code)
		}
	}
	if code, _ := get(t, base+"/slow", nil); code != 504 {
		t.Errorf("/slow got %d, want a 504 timeout", code)
	}
	if code, _ := get(t, base+"/flaky", nil); code != 503 {
		t.Errorf("/flaky got %d, want 503 after its retry", code)
	}
	for range 2 {
		get(t, base+"/limited", nil) // the second is over the local limit
	}
	for range 2 {
		get(t, base+"/global", map[string]string{"x-client": "c"}) // the second is over the global limit
	}
	cluster := `envoy_cluster_name="a_default"`
	for _, c := range []struct {
		query string
		want  float64
	}{
		// n requests, plus the warm-up, plus the one local-limited and the
		// one global-limited request that passed: all 2xx.
		{`envoy_cluster_upstream_rq_xx{` + cluster + `,envoy_response_code_class="2"}`, n + 3},
		{`envoy_cluster_upstream_rq_timeout{` + cluster + `}`, 1},
		{`envoy_cluster_upstream_rq_retry{` + cluster + `}`, 1},
		{`envoy_cluster_upstream_rq_xx{` + cluster + `,envoy_response_code_class="5"}`, 3}, // the timeout and both /flaky attempts
		{`envoy_http_local_rate_limit_rate_limited`, 1},
		{`envoy_http_downstream_rq_xx{envoy_response_code_class="4"}`, 2},
		{`envoy_cluster_ratelimit_over_limit{` + cluster + `}`, 1},
		// Keep-alive connections stay open between requests.
		{`count(envoy_cluster_upstream_cx_active{` + cluster + `} > 0)`, 1},
		// Every request answered by the upstream: the 2xx ones and /flaky's
		// last attempt (the timeout got no answer).
		{`envoy_cluster_upstream_rq_time_count{` + cluster + `}`, n + 4},
		// The control plane's own.
		{`gluon_resources{kind="VirtualService",state="Accepted"}`, 1},
		{`gluon_xds_clients{proxy="gateway-proxy"}`, 1},
		{`gluon_ready`, 1},
		{`count(gluon_snapshot_pushes_total{proxy="gateway-proxy"} > 0)`, 1},
		{`count(gluon_translation_duration_seconds_count{stage="xds"} > 0)`, 1},
		{`count(gluon_xds_answers_total{answer="ack",type=~".*Listener"} > 0)`, 1},
		{`gluon_ratelimit_decisions_total{code="OK"}`, 1},
		{`gluon_ratelimit_decisions_total{code="OVER_LIMIT"}`, 1},
		{`gluon_ratelimit_errors_total{reason="backend"}`, 0},
		{`count(gluon_discovery_polls_total{upstream="default/a"} > 0)`, 1},
		{`gluon_function_invocations_total{kind="rest",upstream="default/petstore",function="findPetById"}`, 1},
		// Per route (Envoy's vhost.<vh>.route.<prefix>.*): / took the n
		// requests and the warm-up, /flaky answered one 503 however many
		// attempts it made, /limited answered two (one refused).
		{`envoy_vhost_route_upstream_rq_xx{envoy_route="default_default-route-5-matcher-0",envoy_response_code_class="2"}`, n + 1},
		{`envoy_vhost_route_upstream_rq_xx{envoy_route="default_default-route-1-matcher-0",envoy_response_code_class="5"}`, 1},
		{`envoy_vhost_route_upstream_rq_completed{envoy_route="default_default-route-2-matcher-0"}`, 2},
	} {
		var got float64
		waitFor(t, 15*time.Second, c.query, func() bool {
			v, ok := promValue(t, prom, c.query)
			got = v
			return ok && v == c.want
		})
		if got != c.want {
			t.Errorf("%s = %v, want %v", c.query, got, c.want)
		}
	}
	checkMonitoring(t, "http://"+cp.admin+"/metrics", "http://"+dpAdmin+"/stats/prometheus")
}

// metricName finds the Gluon and Envoy names in a PromQL expression; the
// label names among them are not metrics.
var (
	metricName = regexp.MustCompile(`\b(?:envoy|gluon)_[a-z0-9_]+\b`)
	labelNames = map[string]bool{"envoy_cluster_name": true, "envoy_response_code_class": true, "envoy_http_conn_manager_prefix": true}
)

// checkMonitoring: the shipped dashboard parses, and every metric it and
// the alerting rules query is one the processes at urls export.
func checkMonitoring(t *testing.T, urls ...string) {
	t.Helper()
	exported := map[string]bool{}
	for _, u := range urls {
		_, body := get(t, u, nil)
		for _, line := range strings.Split(body, "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			exported[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
		}
	}
	var dashboard struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	raw, err := os.ReadFile("../deploy/monitoring/gluon-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &dashboard); err != nil || len(dashboard.Panels) == 0 {
		t.Fatalf("the dashboard does not parse: %v", err)
	}
	queried := map[string]string{}
	for _, p := range dashboard.Panels {
		for _, tg := range p.Targets {
			for _, m := range metricName.FindAllString(tg.Expr, -1) {
				if !labelNames[m] {
					queried[m] = "dashboard panel " + p.Title
				}
			}
		}
	}
	rules, err := os.ReadFile("../deploy/monitoring/gluon-alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range metricName.FindAllString(string(rules), -1) {
		if !labelNames[m] {
			queried[m] = "alerting rules"
		}
	}
	for m, where := range queried {
		if !exported[m] {
			t.Errorf("%s queries %s, which Gluon does not export", where, m)
		}
	}
}
