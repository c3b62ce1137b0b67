package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/api"
)

const resetConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: a}
spec: {static: {hosts: [{addr: 127.0.0.1, port: A_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
# Discovery would probe it too, and its resets would count as attempts.
metadata: {name: resetting, labels: {discovery.gluon.dev/function_discovery: disabled}}
spec: {static: {hosts: [{addr: 127.0.0.1, port: RESET_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    domains: ["*"]
    routes:
    - matchers: [{prefix: /reset}]
      routeAction: {single: {upstream: {name: resetting}}}
      options: {retries: {retryOn: reset, numRetries: 2}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
`

// resetAfterRead accepts connections, reads a request and resets each one.
func resetAfterRead(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_, _ = c.Read(make([]byte, 4096))
			_ = c.(*net.TCPConn).SetLinger(0)
			_ = c.Close()
		}
	}()
	return ln.Addr().String(), accepted
}

// hangUp opens a connection to addr and leaves in one of the three ways
// that used to crash the process.
func hangUp(t *testing.T, addr string, way int) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tcp := c.(*net.TCPConn)
	switch way {
	case 0: // reset before sending anything
		time.Sleep(time.Millisecond)
		_ = tcp.SetLinger(0)
	case 1: // a request, then a reset
		_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		time.Sleep(time.Millisecond)
		_ = tcp.SetLinger(0)
	case 2: // requests, then a close without reading the answers
		_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	}
	_ = c.Close()
}

// TestResetsDoNotCrash resets 100 client connections in each of three ways
// against `gluon serve` (embedded data plane) and `gluon dataplane` while
// another client keeps being served, then checks that both processes are
// alive and that a backend reset is answered 503 after the configured retries.
func TestResetsDoNotCrash(t *testing.T) {
	a := startBackend(t, "a", nil)
	resetAddr, accepted := resetAfterRead(t)
	gwEmbedded, gwSeparate := freeAddr(t), freeAddr(t)
	dirs := []string{t.TempDir(), t.TempDir()}
	for i, gw := range []string{gwEmbedded, gwSeparate} {
		writeFile(t, dirs[i], "config.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "A_PORT", a.port(), "RESET_PORT", portOf(resetAddr)).Replace(resetConfig))
	}
	embedded := startServe(t, dirs[0], t.TempDir(), "embedded")
	cp := startServe(t, dirs[1], t.TempDir(), "none")
	dp := startGluon(t, "dataplane", "--xds-addr", cp.xds, "--node-id", "dp-1")

	for _, tc := range []struct {
		name  string
		gw    string
		procs []*proc
	}{{"gluon serve", gwEmbedded, []*proc{embedded.proc}}, {"gluon dataplane", gwSeparate, []*proc{cp.proc, dp}}} {
		base := "http://" + tc.gw
		waitFor(t, 10*time.Second, tc.name+" serving", func() bool { return reaches(t, base+"/x", "any", "a") })
		steady := startLoad(t, 1, time.Minute, base+"/steady", "any", func(code int, body string) bool {
			return code == http.StatusOK && strings.HasPrefix(body, "a ")
		})
		for way := range 3 {
			for range 100 {
				hangUp(t, tc.gw, way)
			}
		}
		steady.stop(t)
		for _, p := range tc.procs {
			select {
			case <-p.done:
				t.Fatalf("%s: a process exited after client resets:\n%s", tc.name, p.Logs())
			default:
			}
		}
		if !reaches(t, base+"/x", "any", "a") {
			t.Fatalf("%s: no longer serving after client resets", tc.name)
		}

		before := accepted.Load()
		code, body := get(t, base+"/reset", nil)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "reset") {
			t.Errorf("%s: backend reset answered %d %q, want 503", tc.name, code, body)
		}
		if n := accepted.Load() - before; n != 3 {
			t.Errorf("%s: backend reset tried %d times, want 3 (1 + numRetries 2)", tc.name, n)
		}
	}
}

// statusOf returns the state and problems (code, path and message, as
// people read them) /statusz gives a resource.
func statusOf(t *testing.T, cp *controlPlane, kind, name string) (string, string) {
	t.Helper()
	var st struct {
		Reports []api.Report
	}
	_, body := get(t, "http://"+cp.admin+"/statusz", nil)
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("statusz: %v", err)
	}
	for _, r := range st.Reports {
		if string(r.Key.Kind) == kind && r.Key.Name == name {
			return string(r.State), strings.Join(r.Reasons(), "; ")
		}
	}
	return "", ""
}

// TestRejectedResourceKeepsItsLastGoodVersionAcrossRestart breaks a file,
// kills the control plane and starts it again: the broken resource keeps
// serving its last good version, as it did before the kill.
func TestRejectedResourceKeepsItsLastGoodVersionAcrossRestart(t *testing.T) {
	base, cp, _, _ := setup(t, "embedded")
	waitFor(t, 10*time.Second, "initial config", func() bool { return reaches(t, base+"/x", "one.test", "a") })
	writeFile(t, cp.configDir, "one.yaml", "apiVersion: gluon.dev/v1\nkind: VirtualService\nmetadata: {name: one}\nspec:\n  virtualHost: {domains: [one.test], routes: [") // half written
	waitFor(t, 5*time.Second, "the broken file rejected", func() bool {
		state, _ := statusOf(t, cp, "VirtualService", "one")
		return state == "Rejected"
	})
	cp.stop(syscall.SIGKILL)
	cp = startServeAt(t, cp, "embedded")
	// An edit after the restart proves the config was read and translated again.
	writeFile(t, cp.configDir, "two.yaml", vsYAML("two", "two.test", "/", "b"))
	waitFor(t, 10*time.Second, "an edit after the restart", func() bool { return reaches(t, base+"/x", "two.test", "b") })
	if !reaches(t, base+"/x", "one.test", "a") {
		t.Fatal("after a restart, the rejected virtual service no longer serves its last good version")
	}
	if state, reasons := statusOf(t, cp, "VirtualService", "one"); state != "Rejected" || !strings.Contains(reasons, "last good") {
		t.Errorf("after restart: %s %q, want Rejected, serving the last good version", state, reasons)
	}
}

// TestNewcomersDoNotDisplaceServingResources adds a file whose Upstream
// repeats a serving one and whose Gateway takes a serving port, both named
// to sort first: the resources that were serving keep serving.
func TestNewcomersDoNotDisplaceServingResources(t *testing.T) {
	base, cp, _, b := setup(t, "embedded")
	waitFor(t, 10*time.Second, "initial config", func() bool { return reaches(t, base+"/x", "one.test", "a") })
	writeFile(t, cp.configDir, "0-newcomers.yaml", `apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: a}
spec: {static: {hosts: [{addr: 127.0.0.1, port: `+b.port()+`}]}}
---
apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: aaa-first}
spec: {bindAddress: 127.0.0.1, bindPort: `+portOf(strings.TrimPrefix(base, "http://"))+`, httpGateway: {virtualServices: [{name: nothing}]}}
`)
	waitFor(t, 5*time.Second, "the newcomers rejected", func() bool {
		up, _ := statusOf(t, cp, "Upstream", "a")
		gw, _ := statusOf(t, cp, "Gateway", "aaa-first")
		return up == "Rejected" && gw == "Rejected"
	})
	if _, reasons := statusOf(t, cp, "Upstream", "a"); !strings.Contains(reasons, "0-newcomers.yaml: duplicate") {
		t.Errorf("the duplicate upstream's reason: %q", reasons)
	}
	if _, reasons := statusOf(t, cp, "Gateway", "aaa-first"); !strings.Contains(reasons, "already used by Gateway default/http") {
		t.Errorf("the second gateway's reason: %q", reasons)
	}
	for range 20 {
		if !reaches(t, base+"/x", "one.test", "a") {
			t.Fatal("a newcomer displaced a serving resource")
		}
	}
}

// TestAPortHeldElsewhereBlocksOnlyItsGateway adds a Gateway on a port
// another process holds, with an edit of a route: the edit is served, the
// Gateway's report says why it does not serve, and it serves once the
// port is free.
func TestAPortHeldElsewhereBlocksOnlyItsGateway(t *testing.T) {
	base, cp, _, _ := setup(t, "embedded")
	waitFor(t, 10*time.Second, "initial config", func() bool { return reaches(t, base+"/x", "one.test", "a") })
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	writeFile(t, cp.configDir, "blocked.yaml", "apiVersion: gluon.dev/v1\nkind: Gateway\nmetadata: {name: blocked}\nspec: {bindAddress: 127.0.0.1, bindPort: "+portOf(held.Addr().String())+"}\n")
	writeFile(t, cp.configDir, "one.yaml", vsYAML("one", "one.test", "/", "b"))
	waitFor(t, 5*time.Second, "the edit served beside the blocked gateway", func() bool { return reaches(t, base+"/x", "one.test", "b") })
	waitFor(t, 5*time.Second, "the blocked gateway reported", func() bool {
		state, reasons := statusOf(t, cp, "Gateway", "blocked")
		return state == "Rejected" && strings.Contains(reasons, "address already in use")
	})
	if state, _ := statusOf(t, cp, "Gateway", "http"); state != "Accepted" {
		t.Errorf("the serving gateway: %s", state)
	}
	held.Close()
	waitFor(t, 10*time.Second, "the freed port served", func() bool { return reaches(t, "http://"+held.Addr().String()+"/x", "one.test", "b") })
	waitFor(t, 5*time.Second, "the report cleared", func() bool {
		state, _ := statusOf(t, cp, "Gateway", "blocked")
		return state == "Accepted"
	})
}

// TestHostileTemplatesAreRejectedAlone writes templates nested a million
// and ten million parentheses deep (2 MB and 20 MB files): each is
// rejected with a reason, the other routes serve, and a restarted control
// plane survives them too.
func TestHostileTemplatesAreRejectedAlone(t *testing.T) {
	base, cp, _, _ := setup(t, "embedded")
	waitFor(t, 10*time.Second, "initial config", func() bool { return reaches(t, base+"/x", "one.test", "a") })
	for i, n := range []int{1_000_000, 10_000_000} {
		name := "deep" + itoa(i)
		tpl := "{{ " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + " }}"
		writeFile(t, cp.configDir, name+".yaml", `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: `+name+`}
spec:
  virtualHost:
    domains: [`+name+`.test]
    routes:
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
      options: {transformations: {responseTransformation: {transformationTemplate: {body: {text: "`+tpl+`"}}}}}
`)
	}
	for _, name := range []string{"deep0", "deep1"} {
		waitFor(t, 10*time.Second, name+" rejected", func() bool {
			state, reasons := statusOf(t, cp, "VirtualService", name)
			return state != "" && state != "Accepted" && strings.Contains(reasons, "allowed")
		})
	}
	if !reaches(t, base+"/x", "one.test", "a") {
		t.Fatal("other routes stopped serving")
	}
	cp.stop(syscall.SIGKILL)
	cp = startServeAt(t, cp, "embedded")
	time.Sleep(3 * time.Second) // the crash loop came a few seconds after start
	select {
	case <-cp.done:
		t.Fatalf("the restarted control plane died:\n%s", cp.Logs())
	default:
	}
	if !reaches(t, base+"/x", "one.test", "a") {
		t.Fatal("after restart, other routes do not serve")
	}
}

// TestDotSegmentsCannotPassADenyRoute puts a deny route before a catch-all:
// paths that reach /admin through dot segments or doubled slashes meet it.
func TestDotSegmentsCannotPassADenyRoute(t *testing.T) {
	a := startBackend(t, "a", nil)
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec:
  bindAddress: 127.0.0.1
  bindPort: `+portOf(gw)+`
  httpGateway: {options: {httpConnectionManagerSettings: {mergeSlashes: true}}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: a}
spec: {static: {hosts: [{addr: 127.0.0.1, port: `+a.port()+`}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /admin}]
      directResponseAction: {status: 403, body: denied}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
`)
	startServe(t, dir, t.TempDir(), "embedded")
	waitFor(t, 10*time.Second, "serving", func() bool { return reaches(t, "http://"+gw+"/x", "any", "a") })
	for _, path := range []string{"/admin", "/./admin", "/public/../admin", "/public/%2e%2e/admin", "//admin", "/public/..//admin/x"} {
		if code, body := rawGet(t, gw, path); code != "403" {
			t.Errorf("%s: %s %q, want 403", path, code, body)
		}
	}
	if code, body := rawGet(t, gw, "/public/./page"); code != "200" || !strings.Contains(body, "a GET /public/page") {
		t.Errorf("/public/./page: %s %q, want the normalised path upstream", code, body)
	}
}

// rawGet sends a request line as written (Go's client would clean some
// paths) and returns the status code and body.
func rawGet(t *testing.T, addr, path string) (string, string) {
	t.Helper()
	code, body := rawExchange(t, addr, "GET "+path+" HTTP/1.1\r\nHost: any\r\nConnection: close\r\n\r\n")
	return strconv.Itoa(code), body
}

// rawExchange sends a request exactly as written (Go's client would clean
// its path and canonicalise its header names) and returns the answer's
// status code and body.
func rawExchange(t *testing.T, addr, request string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%q: %v", request, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestEscapeSequencesFromDocumentsDoNotReachTheTerminal: a discovered
// document whose operation names carry terminal escape sequences (set the
// window title, clear the screen) is shown by gluonctl with them defused.
func TestEscapeSequencesFromDocumentsDoNotReachTheTerminal(t *testing.T) {
	doc := `{"swagger": "2.0", "paths": {"/a": {"get": {"operationId": "evil\u001b]0;pwned\u0007\u001b[2J\u009b31m"}}}}`
	store := startBackend(t, "hostile", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/swagger.json" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(doc))
	})
	dir := t.TempDir()
	writeFile(t, dir, "upstream.yaml", "apiVersion: gluon.dev/v1\nkind: Upstream\nmetadata: {name: hostile}\nspec: {static: {hosts: [{addr: 127.0.0.1, port: "+store.port()+"}]}}\n")
	cp := startServe(t, dir, t.TempDir(), "embedded")
	var out string
	waitFor(t, 10*time.Second, "the function discovered", func() bool {
		out = mustGluonctl(t, cp, "get", "upstreams")
		return strings.Contains(out, "evil")
	})
	for _, args := range [][]string{{"get", "upstreams"}, {"get", "functions"}, {"get", "upstreams", "-o", "yaml"}, {"check"}} {
		out, _ := gluonctl(t, cp, args...)
		if strings.ContainsAny(out, "\x1b\x07\u009b") {
			t.Errorf("gluonctl %s writes control characters: %q", strings.Join(args, " "), out)
		}
	}
}

// TestARouteStage2CannotBuildIsLeftOutAlone: stage 1 accepts a header
// value with a line break, which Envoy's validation refuses. It used to
// drop the proxy's whole snapshot with the error on no resource; now that
// route is left out and reported at its path, and the others serve.
func TestARouteStage2CannotBuildIsLeftOutAlone(t *testing.T) {
	base, cp, _, _ := setup(t, "embedded")
	waitFor(t, 10*time.Second, "initial config", func() bool { return reaches(t, base+"/x", "one.test", "a") })
	writeFile(t, cp.configDir, "split.yaml", `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: split}
spec:
  virtualHost:
    domains: [split.test]
    routes:
    - matchers: [{prefix: /bad}]
      routeAction: {single: {upstream: {name: a}}}
      options: {headerManipulation: {requestHeadersToAdd: [{header: {key: x-split, value: "line\nbreak"}}]}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: b}}}
`)
	waitFor(t, 10*time.Second, "the good route of the same virtual service served", func() bool { return reaches(t, base+"/good", "split.test", "b") })
	if !reaches(t, base+"/bad", "split.test", "b") {
		t.Error("the left-out route still takes /bad: the next route should")
	}
	if !reaches(t, base+"/x", "one.test", "a") {
		t.Error("another virtual service stopped serving")
	}
	state, reasons := statusOf(t, cp, "VirtualService", "split")
	if state != "Rejected" || !strings.Contains(reasons, "NotTranslated: spec.virtualHost.routes[0].matchers[0]: ") {
		t.Errorf("split: %s %q, want Rejected with NotTranslated at routes[0].matchers[0]", state, reasons)
	}
}
