package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
)

// jaeger is a real Jaeger: an OTLP/gRPC receiver and its query API.
type jaeger struct {
	otlp, query string
	stop        func()
}

func startJaeger(t *testing.T) *jaeger {
	t.Helper()
	j := &jaeger{otlp: freeAddr(t), query: freeAddr(t)}
	dir := t.TempDir()
	writeFile(t, dir, "jaeger.yaml", strings.NewReplacer("OTLP", j.otlp, "QUERY_HTTP", j.query, "QUERY_GRPC", freeAddr(t)).Replace(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: {receivers: [otlp], exporters: [jaeger_storage_exporter]}
  telemetry: {logs: {level: warn}, metrics: {level: none}}
extensions:
  jaeger_storage: {backends: {mem: {memory: {max_traces: 10000}}}}
  jaeger_query: {storage: {traces: mem}, http: {endpoint: QUERY_HTTP}, grpc: {endpoint: QUERY_GRPC}}
receivers:
  otlp: {protocols: {grpc: {endpoint: OTLP}}}
exporters:
  jaeger_storage_exporter: {trace_storage: mem}
`))
	j.stop = startTool(t, cachedTool(t, "GLUON_JAEGER", "jaeger-testenv"), "--config", "file:"+dir+"/jaeger.yaml")
	waitFor(t, 30*time.Second, "jaeger ready", func() bool {
		code, _ := get(t, "http://"+j.query+"/api/services", nil)
		return code == 200
	})
	return j
}

// jaegerSpan is a span as Jaeger's query API returns it.
type jaegerSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
	ProcessID string `json:"processID"`
}

func (s jaegerSpan) parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

func (s jaegerSpan) tag(key string) string {
	for _, tg := range s.Tags {
		if tg.Key == key {
			return fmt.Sprint(tg.Value)
		}
	}
	return ""
}

// trace waits until Jaeger holds at least n spans of a trace and returns
// them.
func (j *jaeger) trace(t *testing.T, traceID string, n int) []jaegerSpan {
	t.Helper()
	var spans []jaegerSpan
	waitFor(t, 20*time.Second, fmt.Sprintf("%d spans of trace %s in jaeger", n, traceID), func() bool {
		code, body := get(t, "http://"+j.query+"/api/traces/"+traceID, nil)
		if code != 200 {
			return false
		}
		var resp struct {
			Data []struct {
				Spans     []jaegerSpan `json:"spans"`
				Processes map[string]struct {
					ServiceName string `json:"serviceName"`
				} `json:"processes"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &resp); err != nil || len(resp.Data) != 1 {
			return false
		}
		spans = resp.Data[0].Spans
		for i := range spans {
			spans[i].ProcessID = resp.Data[0].Processes[spans[i].ProcessID].ServiceName
		}
		return len(spans) >= n
	})
	return spans
}

func byName(spans []jaegerSpan, name string) []jaegerSpan {
	var out []jaegerSpan
	for _, s := range spans {
		if s.OperationName == name {
			out = append(out, s)
		}
	}
	return out
}

const tracingConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec:
  bindAddress: 127.0.0.1
  bindPort: GW_PORT
  httpGateway:
    options:
      httpConnectionManagerSettings:
        tracing:
          openTelemetryConfig: {collectorUpstreamRef: {name: jaeger}, serviceName: edge}
          tracePercentages: {randomSamplePercentage: 0}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: jaeger}
spec:
  useHttp2: true
  static: {hosts: [{addr: 127.0.0.1, port: OTLP_PORT}]}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: app}
spec: {static: {hosts: [{addr: 127.0.0.1, port: APP_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: petstore}
spec: {static: {hosts: [{addr: 127.0.0.1, port: PET_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: traced}
spec:
  virtualHost:
    routes:
    - matchers: [{exact: /pet}]
      routeAction:
        single:
          upstream: {name: petstore}
          destinationSpec: {rest: {functionName: findPetById, parameters: {headers: {x-pet-id: "{id}"}}}}
    - matchers: [{prefix: /flaky}]
      routeAction: {single: {upstream: {name: app}}}
      options: {retries: {retryOn: 5xx, numRetries: 1}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: app}}}
`

// TestTracing: a real Jaeger receives, over OTLP/gRPC, the gateway's span
// of a request that brought a sampled traceparent (as its child), the
// upstream attempt's span under it (one per try when a retry happens) and
// a REST function call's span; the upstream sees the attempt's context.
// B3 headers are followed too. With Jaeger stopped, requests keep their
// latency and none blocks.
func TestTracing(t *testing.T) {
	j := startJaeger(t)
	var mu sync.Mutex
	seen := map[string]string{} // traceparent the app saw, by path
	var flaky atomic.Int32
	app := startBackend(t, "app", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("Traceparent")
		mu.Unlock()
		if r.URL.Path == "/flaky" && flaky.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	})
	pets := startBackend(t, "petstore", petstore.Handler(petstore.Swagger2).ServeHTTP)
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "gluon.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "OTLP_PORT", portOf(j.otlp),
		"APP_PORT", app.port(), "PET_PORT", pets.port()).Replace(tracingConfig))
	startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	waitFor(t, 20*time.Second, "routes served", func() bool {
		code, _ := get(t, base+"/pet", map[string]string{"x-pet-id": "2"})
		return code == 200
	})

	const clientSpan = "00f067aa0ba902b7"
	traceparent := func(traceID string) map[string]string {
		return map[string]string{"traceparent": "00-" + traceID + "-" + clientSpan + "-01"}
	}
	t.Run("the gateway span is the client's child; the upstream attempt is the gateway's", func(t *testing.T) {
		const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		if code, _ := get(t, base+"/hello", traceparent(traceID)); code != 200 {
			t.Fatalf("%d", code)
		}
		spans := j.trace(t, traceID, 2)
		server, attempt := byName(spans, "default_traced-route-2-matcher-0"), byName(spans, "router app_default egress")
		if len(server) != 1 || len(attempt) != 1 {
			t.Fatalf("spans %+v", spans)
		}
		if server[0].parent() != clientSpan || attempt[0].parent() != server[0].SpanID {
			t.Errorf("server span's parent %s (want %s), attempt's parent %s (want %s)", server[0].parent(), clientSpan, attempt[0].parent(), server[0].SpanID)
		}
		if server[0].ProcessID != "edge" || server[0].tag("http.status_code") != "200" || attempt[0].tag("upstream_address") != app.addr {
			t.Errorf("server span %+v, attempt %+v", server[0], attempt[0])
		}
		mu.Lock()
		got := seen["/hello"]
		mu.Unlock()
		if want := "00-" + traceID + "-" + attempt[0].SpanID + "-01"; got != want {
			t.Errorf("the app saw traceparent %q, want %q", got, want)
		}
	})
	t.Run("a retry is a second attempt span", func(t *testing.T) {
		const traceID = "5bf92f3577b34da6a3ce929d0e0e4737"
		if code, _ := get(t, base+"/flaky", traceparent(traceID)); code != 200 {
			t.Fatalf("%d", code)
		}
		attempts := byName(j.trace(t, traceID, 3), "router app_default egress")
		codes := []string{}
		for _, a := range attempts {
			codes = append(codes, a.tag("http.status_code"))
		}
		slices.Sort(codes)
		if !slices.Equal(codes, []string{"200", "503"}) {
			t.Errorf("attempt statuses %v, want a 503 and a 200", codes)
		}
	})
	t.Run("a REST function call is a span between the gateway's and the attempt's", func(t *testing.T) {
		const traceID = "6bf92f3577b34da6a3ce929d0e0e4738"
		h := traceparent(traceID)
		h["x-pet-id"] = "2"
		if code, _ := get(t, base+"/pet", h); code != 200 {
			t.Fatalf("%d", code)
		}
		spans := j.trace(t, traceID, 3)
		fn, attempt := byName(spans, "function rest findPetById"), byName(spans, "router petstore_default egress")
		if len(fn) != 1 || len(attempt) != 1 || attempt[0].parent() != fn[0].SpanID {
			t.Fatalf("spans %+v", spans)
		}
	})
	t.Run("B3 headers are followed", func(t *testing.T) {
		const traceID = "7bf92f3577b34da6a3ce929d0e0e4739"
		code, _ := get(t, base+"/b3", map[string]string{"X-B3-TraceId": traceID, "X-B3-SpanId": clientSpan, "X-B3-Sampled": "1"})
		if code != 200 {
			t.Fatalf("%d", code)
		}
		if server := byName(j.trace(t, traceID, 2), "default_traced-route-2-matcher-0"); len(server) != 1 || server[0].parent() != clientSpan {
			t.Errorf("server span %+v", server)
		}
	})
	t.Run("with the collector down requests keep their latency", func(t *testing.T) {
		p99 := func() time.Duration {
			var took []time.Duration
			for i := range 200 {
				start := time.Now()
				if code, _ := get(t, base+"/down", traceparent(fmt.Sprintf("8bf92f3577b34da6a3ce929d0e0e%04x", i))); code != 200 {
					t.Fatalf("request %d: %d", i, code)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			return took[len(took)*99/100]
		}
		up := p99()
		j.stop()
		// Enough requests that the span queue fills: what cannot be sent
		// is dropped, nothing waits for it.
		var wg sync.WaitGroup
		var failed atomic.Int32
		start := time.Now()
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 300 {
					if code, _ := get(t, base+"/down", traceparent(fmt.Sprintf("9bf92f3577b34da6a3ce929d0e%02x%04x", w, i))); code != 200 {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 || time.Since(start) > 60*time.Second {
			t.Fatalf("%d of 2400 requests failed; they took %s", failed.Load(), time.Since(start))
		}
		down := p99()
		t.Logf("p99 with the collector up %s, down %s", up, down)
		if down > 3*up+50*time.Millisecond {
			t.Errorf("p99 with the collector down %s, up %s", down, up)
		}
	})
}
