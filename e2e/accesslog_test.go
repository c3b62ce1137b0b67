package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAccessLogs: a gateway's access logs carry the documented fields, in
// a text format and a JSON format, for a forwarded request and one no
// route takes; a gateway whose format has an unknown operator is rejected
// alone.
func TestAccessLogs(t *testing.T) {
	a := startBackend(t, "a", nil)
	gw, other := freeAddr(t), freeAddr(t)
	logs := t.TempDir()
	textLog, jsonLog := filepath.Join(logs, "access.log"), filepath.Join(logs, "access.json")
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: logged}
spec:
  bindAddress: 127.0.0.1
  bindPort: `+portOf(gw)+`
  options:
    accessLoggingService:
      accessLog:
      - fileSink: {path: `+textLog+`, stringFormat: "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_SENT% %UPSTREAM_CLUSTER% %REQ(X-REQUEST-ID)%\n"}
      - fileSink:
          path: `+jsonLog+`
          jsonFormat: {method: "%REQ(:METHOD)%", path: "%REQ(:PATH)%", code: "%RESPONSE_CODE%", upstream: "%UPSTREAM_HOST%", start: "%START_TIME%", duration: "%DURATION%"}
---
apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: typo}
spec:
  bindAddress: 127.0.0.1
  bindPort: `+portOf(other)+`
  options:
    accessLoggingService:
      accessLog:
      - fileSink: {path: /dev/stdout, stringFormat: "%RESPONSE_CODEZ%"}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: a, labels: {discovery.gluon.dev/function_discovery: disabled}}
spec: {static: {hosts: [{addr: 127.0.0.1, port: `+a.port()+`}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /ok}]
      routeAction: {single: {upstream: {name: a}}}
`)
	cp := startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	waitFor(t, 10*time.Second, "config served", func() bool { code, _ := get(t, base+"/ok/warm", nil); return code == 200 })
	if code, _ := get(t, base+"/ok/x?y=1", map[string]string{"X-Request-Id": "req-42"}); code != 200 {
		t.Fatalf("got %d", code)
	}
	if code, _ := get(t, base+"/nowhere", map[string]string{"X-Request-Id": "req-43"}); code != 404 {
		t.Fatalf("got %d", code)
	}
	if state, problem := statusOf(t, cp, "Gateway", "typo"); state != "Rejected" || !strings.Contains(problem, "RESPONSE_CODEZ") {
		t.Errorf("the gateway with a bad format is %s: %s", state, problem)
	}

	var text string
	waitFor(t, 5*time.Second, "the text lines", func() bool {
		b, _ := os.ReadFile(textLog)
		text = string(b)
		return strings.Count(text, "\n") >= 3
	})
	for _, want := range []string{"GET /ok/x?y=1 HTTP/1.1 200 - 15 a_default req-42\n", "GET /nowhere HTTP/1.1 404 NR 0 - req-43\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text log lacks %q:\n%s", want, text)
		}
	}
	b, err := os.ReadFile(jsonLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var entry map[string]string
	if err := json.Unmarshal([]byte(lines[len(lines)-2]), &entry); err != nil {
		t.Fatalf("a JSON line does not parse: %v: %s", err, lines[len(lines)-2])
	}
	start, err := time.Parse(time.RFC3339Nano, entry["start"])
	if entry["method"] != "GET" || entry["path"] != "/ok/x?y=1" || entry["code"] != "200" || entry["upstream"] != "127.0.0.1:"+a.port() ||
		err != nil || time.Since(start) > time.Minute || entry["duration"] == "" {
		t.Errorf("JSON line %v (start: %v)", entry, err)
	}
}
