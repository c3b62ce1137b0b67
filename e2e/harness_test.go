// Package e2e drives real gluon processes over real sockets on loopback.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// gluonBin and gluonctlBin are built once per test binary.
var gluonBin, gluonctlBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gluon-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gluonBin, gluonctlBin = filepath.Join(dir, "gluon"), filepath.Join(dir, "gluonctl")
	build := exec.Command("go", "build", "-o", dir, "../cmd/gluon", "../cmd/gluonctl")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gluon and gluonctl:", err)
		os.Exit(1)
	}
	code := m.Run()
	stopKube()
	os.RemoveAll(dir)
	os.Exit(code)
}

// givenOut holds every address freeAddr returned: the kernel may offer a
// just-closed port again, and two servers of one test must not get the same.
var givenOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// freeAddr returns a loopback address nobody listens on right now and that
// no earlier call returned. Its port is below Linux's ephemeral range
// (32768 and up), so that no outgoing connection takes it as its local
// port before the process it is for binds it.
func freeAddr(t *testing.T) string {
	t.Helper()
	givenOut.Lock()
	defer givenOut.Unlock()
	for range 1000 {
		addr := "127.0.0.1:" + strconv.Itoa(10000+rand.IntN(22000))
		if givenOut.addrs[addr] {
			continue
		}
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		lis.Close()
		givenOut.addrs[addr] = true
		return addr
	}
	t.Fatal("no fresh loopback port below the ephemeral range in 1000 tries")
	return ""
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// proc is a running gluon process whose stderr is kept for assertions.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

func (p *proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func startGluon(t *testing.T, args ...string) *proc {
	t.Helper()
	return startGluonEnv(t, nil, args...)
}

// startGluonEnv starts gluon with extra environment variables (e.g.
// SSL_CERT_FILE to trust a stand-in's test CA).
func startGluonEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(gluonBin, args...), done: make(chan struct{})}
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	// If the test binary dies (a timeout, a panic), its servers die with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM)
		if t.Failed() {
			t.Logf("gluon %s logs:\n%s", strings.Join(args, " "), p.Logs())
		}
	})
	return p
}

// stop signals the process and waits (bounded) for it to exit.
func (p *proc) stop(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(sig) // it may have exited between the check and now
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// controlPlane is a `gluon serve` with its addresses.
type controlPlane struct {
	*proc
	xds, admin, rls, configDir, stateDir string
	// extra are more flags (e.g. --redis-addr); env more environment.
	extra []string
	env   []string
}

func startServe(t *testing.T, configDir, stateDir, dataplane string) *controlPlane {
	t.Helper()
	return startServeAt(t, &controlPlane{xds: freeAddr(t), admin: freeAddr(t), rls: freeAddr(t), configDir: configDir, stateDir: stateDir}, dataplane)
}

// startServeAt starts a control plane on the addresses and dirs of cp;
// without a config dir, the flags in cp.extra name its config source.
func startServeAt(t *testing.T, cp *controlPlane, dataplane string) *controlPlane {
	t.Helper()
	cp = &controlPlane{xds: cp.xds, admin: cp.admin, rls: cp.rls, configDir: cp.configDir, stateDir: cp.stateDir, extra: cp.extra, env: cp.env}
	args := []string{"serve", "--state-dir", cp.stateDir, "--xds-addr", cp.xds, "--admin-addr", cp.admin, "--ratelimit-addr", cp.rls, "--dataplane", dataplane}
	if cp.configDir != "" {
		args = append(args, "--config-dir", cp.configDir)
	}
	cp.proc = startGluonEnv(t, cp.env, append(args, cp.extra...)...)
	waitFor(t, 15*time.Second, "control plane ready", func() bool {
		code, _ := get(t, "http://"+cp.admin+"/readyz", nil)
		return code == http.StatusOK
	})
	return cp
}

// startGateway serves config after a Gateway on a fresh loopback port,
// with the embedded data plane and gluon serve's extra flags; it returns
// the gateway's address and the control plane once that is ready.
func startGateway(t *testing.T, config string, extra ...string) (string, *controlPlane) {
	t.Helper()
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: `+portOf(gw)+`}
---
`+config)
	cp := &controlPlane{xds: freeAddr(t), admin: freeAddr(t), rls: freeAddr(t), configDir: dir, stateDir: t.TempDir(), extra: extra}
	return gw, startServeAt(t, cp, "embedded")
}

// routeAllTo is the VirtualService "default" that routes every path to
// one upstream.
func routeAllTo(upstream string) string {
	return `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: ` + upstream + `}}}
`
}

// backend is a loopback HTTP server that says who it is and what it got.
type backend struct {
	name string
	addr string
	srv  *http.Server
}

func startBackend(t *testing.T, name string, h http.HandlerFunc) *backend {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Backend", name)
			fmt.Fprintf(w, "%s %s %s", name, r.Method, r.URL.RequestURI())
		}
	}
	b := &backend{name: name, addr: lis.Addr().String(), srv: &http.Server{Handler: h}}
	go b.srv.Serve(lis)
	t.Cleanup(func() { b.srv.Close() })
	return b
}

func (b *backend) port() string { return portOf(b.addr) }

// writeFile replaces a config file atomically, as a careful editor would.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

var client = &http.Client{
	Timeout:       10 * time.Second,
	Transport:     &http.Transport{MaxIdleConnsPerHost: 100},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// get sends a GET with headers and returns status and body (0 on error).
func get(t *testing.T, url string, headers map[string]string) (int, string) {
	return do(t, http.MethodGet, url, headers)
}

func do(t *testing.T, method, url string, headers map[string]string) (int, string) {
	t.Helper()
	return doBody(t, method, url, headers, "")
}

// doBody sends a request with a body and returns status and body.
func doBody(t *testing.T, method, url string, headers map[string]string, body string) (int, string) {
	t.Helper()
	code, got, _ := send(t, method, url, headers, body)
	return code, got
}

// getHeaders sends a GET and returns status, body and response headers.
func getHeaders(t *testing.T, url string, headers map[string]string) (int, string, http.Header) {
	t.Helper()
	return send(t, http.MethodGet, url, headers, "")
}

// send sends a request ("Host" in headers sets its host) and returns the
// response's status, body and headers; status 0 and the error's text when
// there is no response.
func send(t *testing.T, method, url string, headers map[string]string, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error(), nil
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(got), resp.Header
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func itoa(i int) string { return strconv.Itoa(i) }

// cachedTool is a real component's binary that scripts/test builds once
// (cached outside the repo) and names in the environment variable env;
// without it, scripts/<script> finds or builds it here.
func cachedTool(t *testing.T, env, script string) string {
	t.Helper()
	if bin := os.Getenv(env); bin != "" {
		return bin
	}
	out, err := exec.Command("../scripts/" + script).Output()
	if err != nil {
		t.Fatalf("scripts/%s: %v", script, err)
	}
	return strings.TrimSpace(string(out))
}

// startTool runs a component until the test ends; the func returned stops
// it sooner (and may be called again).
func startTool(t *testing.T, bin string, args ...string) func() {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_, _ = cmd.Process.Wait()
		})
	}
	t.Cleanup(stop)
	return stop
}
