package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestDemo runs `gluon demo` as a newcomer would and runs, with the real
// curl, every curl line it prints.
func TestDemo(t *testing.T) { runDemo(t, nil) }

// TestDemoConsul runs the same walk-through with `gluon demo --consul`:
// the services registered in a real Consul agent, the config in its KV
// store, the credentials in a real Vault; every printed line works too.
func TestDemoConsul(t *testing.T) {
	consul := cachedTool(t, "GLUON_CONSUL", "consul-testenv")
	vault := cachedTool(t, "GLUON_VAULT", "vault-testenv")
	runDemo(t, checkDemoHashiCorp, "--consul", "--consul-bin", consul, "--vault-bin", vault)
}

// checkDemoHashiCorp runs the consul and vault lines the demo printed.
func checkDemoHashiCorp(t *testing.T, printed []string) {
	want := map[string]string{"catalog services": "petstore", "kv get -recurse": "gluon/gluon.dev/v1/VirtualService/default/demo",
		"vault kv get": "accessKey"}
	for key, expect := range want {
		var line string
		for _, l := range printed {
			if strings.Contains(l, key) {
				line = l
			}
		}
		if line == "" {
			t.Errorf("the demo printed no line with %q", key)
			continue
		}
		got, err := exec.Command("bash", "-c", line).CombinedOutput()
		if err != nil || !strings.Contains(string(got), expect) {
			t.Errorf("%s: %v, output lacks %q:\n%s", line, err, expect, got)
		}
	}
}

// runDemo runs gluon demo with args, checks every curl and gluonctl line
// it prints, then, while it still runs, gives more every line it printed.
func runDemo(t *testing.T, more func(*testing.T, []string), args ...string) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is needed to run the demo's printed lines: install it (apt-get install curl)")
	}
	// The demo records where it is in the user's cache directory; this
	// one is the test's own, shared with the gluonctl lines it runs.
	cache := t.TempDir()
	env := append(os.Environ(), "XDG_CACHE_HOME="+cache, "GLUON_ADMIN_ADDR=", "GLUON_CONFIG_DIR=")
	cmd := exec.Command(gluonBin, append([]string{"demo", "--port", "0"}, args...)...)
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGINT); _ = cmd.Wait() }()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var curls, gluonctls, printed []string
	var admin, console, mcpURL string
	timeout := time.After(60 * time.Second)
	for done := false; !done; {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("demo exited early; printed curl lines: %v", curls)
			}
			printed = append(printed, line)
			switch l := strings.TrimSpace(line); {
			case strings.HasPrefix(l, "curl "):
				curls = append(curls, l)
			case strings.HasPrefix(l, "gluonctl "):
				gluonctls = append(gluonctls, l)
			case strings.HasPrefix(l, "Admin endpoint: "):
				admin = strings.TrimPrefix(l, "Admin endpoint: ")
			case strings.HasPrefix(l, "Console: "):
				console = strings.TrimPrefix(l, "Console: ")
			case strings.HasPrefix(l, "MCP endpoint: "):
				mcpURL = strings.TrimPrefix(l, "MCP endpoint: ")
			}
			done = strings.Contains(line, "Ctrl-C")
		case <-timeout:
			t.Fatal("demo did not print its curl lines within 60s")
		}
	}
	// Ordered: the first key a line contains decides what it must print.
	want := []struct{ key, expect string }{
		{"/health", "gluon is up"},
		{"/petstore/findPet", `"name":"Tom"`},
		{"/petstore/add", `{"created": {"id":3,"name":"Fido","tag":"dog"}, "by": "gluon"}`},
		{"/lambda/hello", `"path":"/lambda/hello/world"`},
		{"/lambda/echo", `{"ping": 1}`},
		{"/azure/greet", "hello, gluon"},
		{"/azure/ping", "pong"},
		{"/greetings/", `[{"message":"Hello, gluon (1 of 3)"},{"message":"Hello, gluon (2 of 3)"},{"message":"Hello, gluon (3 of 3)"}]`},
		{"/greet", `{"message":"Hello, gluon"}`},
		{"x-color", `"path":"/world","service":"green"`},
		{"/hello/world", `"path":"/world","service":"blue"`},
		{"/split", `"service":`},
		{"/old", "Location: http://127.0.0.1:"},
	}
	if len(curls) < len(want) {
		t.Fatalf("demo printed %d curl lines, want at least %d: %v", len(curls), len(want), curls)
	}
	for _, line := range curls {
		got, err := exec.Command("bash", "-c", line).CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", line, err, got)
			continue
		}
		for _, w := range want {
			if strings.Contains(line, w.key) {
				if !strings.Contains(string(got), w.expect) {
					t.Errorf("%s: output lacks %q:\n%s", line, w.expect, got)
				}
				break
			}
		}
	}
	checkDemoGluonctl(t, env, admin, gluonctls)
	checkDemoMCP(t, mcpURL)
	if code, body := get(t, console, nil); code != 200 || !strings.Contains(body, "Gluon console") {
		t.Errorf("the console URL %q: %d", console, code)
	}
	if more != nil {
		more(t, printed)
	}
}

// checkDemoGluonctl: the admin URL the demo printed answers, and each
// gluonctl line it printed works as printed, finding the demo without
// flags.
func checkDemoGluonctl(t *testing.T, env []string, admin string, lines []string) {
	t.Helper()
	if code, body := get(t, admin, nil); code != 200 || !strings.Contains(body, `"ready": true`) {
		t.Errorf("the admin URL %q: %d %s", admin, code, body)
	}
	want := map[string][]string{"get upstreams": {"petstore"}, "get functions": {"findPetById", "| helloworld.Greeter.SayHelloStream | gRPC   | server-stream | /helloworld.Greeter/SayHelloStream |"},
		"get routes": {"/petstore/findPet"}, "get tools": {"azure_greet"}, "check": {"Control plane: ready"}}
	if len(lines) != len(want) {
		t.Fatalf("demo printed gluonctl lines %q", lines)
	}
	for _, line := range lines {
		args := strings.Fields(strings.TrimPrefix(line, "gluonctl "))
		cmd := exec.Command(gluonctlBin, args...)
		cmd.Env = env
		got, err := cmd.CombinedOutput()
		key := strings.Join(args, " ")
		if strings.HasPrefix(key, "get tools") {
			key = "get tools"
		}
		for _, w := range want[key] {
			if err != nil || !strings.Contains(string(got), w) {
				t.Errorf("%s: %v, output lacks %q\n%s", line, err, w, got)
			}
		}
	}
}

// checkDemoMCP: an MCP client at the endpoint the demo printed calls a
// REST, a Lambda and an Azure function as tools.
func checkDemoMCP(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "demo-e2e", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatalf("MCP endpoint %q: %v", url, err)
	}
	defer session.Close()
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"petstore_findPetById", map[string]any{"id": 2}, `"name":"Tom"`},
		{"lambda_echo_live", map[string]any{"ping": 1}, `{"ping":1}`},
		{"azure_greet", map[string]any{"name": "agent"}, "hello, agent"},
	} {
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: c.tool, Arguments: c.args})
		if err != nil {
			t.Errorf("%s: %v", c.tool, err)
			continue
		}
		text, _ := json.Marshal(res.Content)
		if res.IsError || !strings.Contains(string(text), strings.ReplaceAll(c.want, `"`, `\"`)) && !strings.Contains(string(text), c.want) {
			t.Errorf("%s: %s", c.tool, text)
		}
	}
}
