package e2e

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
)

// gluonctl runs the real binary on cp's config directory and returns its
// combined output and exit code.
func gluonctl(t *testing.T, cp *controlPlane, args ...string) (string, int) {
	t.Helper()
	return runGluonctl(t, append([]string{"--config-dir", cp.configDir, "--admin-addr", cp.admin}, args...)...)
}

// runGluonctl runs the real binary with args as they are.
func runGluonctl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(gluonctlBin, args...).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

func mustGluonctl(t *testing.T, cp *controlPlane, args ...string) string {
	t.Helper()
	out, code := gluonctl(t, cp, args...)
	if code != 0 {
		t.Fatalf("gluonctl %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// TestGluonctlFlows runs glooctl's seed flows with gluonctl against a
// running gluon serve and its config directory.
func TestGluonctlFlows(t *testing.T) {
	httpbin := startBackend(t, "httpbin", nil)
	store := startBackend(t, "petstore", petstore.Handler(petstore.Swagger2).ServeHTTP)
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", "apiVersion: gluon.dev/v1\nkind: Gateway\nmetadata: {name: http}\nspec: {bindAddress: 127.0.0.1, bindPort: "+portOf(gw)+"}\n")
	cp := startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw

	t.Run("create upstream static + add route with prefix rewrite", func(t *testing.T) {
		mustGluonctl(t, cp, "create", "upstream", "static", "httpbin", "--static-hosts", httpbin.addr)
		mustGluonctl(t, cp, "add", "route", "--path-prefix", "/httpbin", "--dest-name", "httpbin", "--prefix-rewrite", "/")
		waitFor(t, 5*time.Second, "route served", func() bool {
			code, body := get(t, base+"/httpbin/get?x=1", nil)
			return code == 200 && body == "httpbin GET /get?x=1"
		})
		if code, body := get(t, base+"/httpbin", nil); code != 200 || body != "httpbin GET /" {
			t.Fatalf("the bare prefix: %d %q", code, body)
		}
	})
	t.Run("dry run writes nothing", func(t *testing.T) {
		before, _ := os.ReadDir(dir)
		out := mustGluonctl(t, cp, "create", "upstream", "static", "dry", "--static-hosts", "127.0.0.1:1", "--dry-run")
		after, _ := os.ReadDir(dir)
		if !strings.Contains(out, "kind: Upstream") || len(after) != len(before) {
			t.Fatalf("dry run: %d files before, %d after\n%s", len(before), len(after), out)
		}
	})
	t.Run("get upstreams shows discovered functions", func(t *testing.T) {
		mustGluonctl(t, cp, "create", "upstream", "static", "petstore", "--static-hosts", store.addr)
		var table string
		waitFor(t, 10*time.Second, "functions discovered", func() bool {
			table = mustGluonctl(t, cp, "get", "upstreams")
			return strings.Contains(table, "findPetById")
		})
		for _, want := range []string{"| UPSTREAM |", "| petstore ", "Accepted", "functions: 5"} {
			if !strings.Contains(table, want) {
				t.Errorf("table lacks %q:\n%s", want, table)
			}
		}
	})
	t.Run("add route --function routes to a REST function", func(t *testing.T) {
		mustGluonctl(t, cp, "add", "route", "--path-exact", "/petstore/findPet", "--dest-name", "petstore",
			"--function", "findPetById", "--rest-parameters", "x-pet-id={id}")
		waitFor(t, 5*time.Second, "function route served", func() bool {
			code, body := get(t, base+"/petstore/findPet", map[string]string{"x-pet-id": "2"})
			return code == http.StatusOK && strings.Contains(body, `"name":"Tom"`)
		})
		routes := mustGluonctl(t, cp, "get", "routes")
		if !strings.Contains(routes, "petstore function findPetById") {
			t.Fatalf("get routes:\n%s", routes)
		}
	})
	t.Run("a shadowed route is warned about", func(t *testing.T) {
		out := mustGluonctl(t, cp, "add", "route", "--path-prefix", "/", "--dest-name", "httpbin", "--dry-run")
		if !strings.Contains(out, "warning:") || !strings.Contains(out, "unreachable") {
			t.Fatalf("no shadow warning:\n%s", out)
		}
	})
	t.Run("check passes, then fails naming a rejected resource", func(t *testing.T) {
		if out, code := gluonctl(t, cp, "check"); code != 0 {
			t.Fatalf("check on a healthy config: exit %d\n%s", code, out)
		}
		writeFile(t, dir, "bad.yaml", "apiVersion: gluon.dev/v1\nkind: VirtualService\nmetadata: {name: bad}\nspec: {virtualHost: {domains: [bad.test], routes: [{matchers: [{prefix: nope}], directResponseAction: {status: 200}}]}}\n")
		var out string
		var code int
		waitFor(t, 5*time.Second, "check fails", func() bool {
			out, code = gluonctl(t, cp, "check")
			return code == 1
		})
		if !strings.Contains(out, "Rejected VirtualService default/bad") || !strings.Contains(out, "must start with /") {
			t.Fatalf("check output:\n%s", out)
		}
	})
	t.Run("create secret aws and upstream aws: Lambda functions discovered, the secret never shown", func(t *testing.T) {
		_, lambdaURL := startLambda(t)
		keyFile := filepath.Join(t.TempDir(), "secret-key")
		if err := os.WriteFile(keyFile, []byte(awsSecretKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		dry := mustGluonctl(t, cp, "create", "secret", "aws", "aws-creds", "--access-key", awsAccessKey, "--secret-key-file", keyFile, "--dry-run")
		out := mustGluonctl(t, cp, "create", "secret", "aws", "aws-creds", "--access-key", awsAccessKey, "--secret-key-file", keyFile)
		mustGluonctl(t, cp, "create", "upstream", "aws", "lambda", "--aws-region", "us-east-1", "--aws-secret-name", "aws-creds", "--aws-endpoint", lambdaURL)
		var table string
		waitFor(t, 10*time.Second, "Lambda functions discovered", func() bool {
			table = mustGluonctl(t, cp, "get", "upstreams")
			return strings.Contains(table, "versioned:prod")
		})
		secrets := mustGluonctl(t, cp, "get", "secrets", "-o", "yaml")
		for where, text := range map[string]string{"create": out, "dry run": dry, "get upstreams": table, "get secrets": secrets} {
			if strings.Contains(text, awsSecretKey) {
				t.Errorf("%s shows the secret key", where)
			}
		}
		if !strings.Contains(secrets, "type: aws") || !strings.Contains(table, "AWS Lambda") {
			t.Fatalf("get secrets:\n%s\nget upstreams:\n%s", secrets, table)
		}
	})
	t.Run("remove route, delete, proxy url and served config", func(t *testing.T) {
		mustGluonctl(t, cp, "remove", "route", "--index", "0")
		waitFor(t, 5*time.Second, "route removed", func() bool {
			code, _ := get(t, base+"/petstore/findPet", map[string]string{"x-pet-id": "2"})
			return code == 404
		})
		mustGluonctl(t, cp, "delete", "virtualservice", "bad")
		if _, err := os.Stat(filepath.Join(dir, "bad.yaml")); !os.IsNotExist(err) {
			t.Fatalf("bad.yaml still there: %v", err)
		}
		if url := strings.TrimSpace(mustGluonctl(t, cp, "proxy", "url")); url != base {
			t.Fatalf("proxy url %q, want %q", url, base)
		}
		if cfg := mustGluonctl(t, cp, "proxy", "served-config"); !strings.Contains(cfg, "httpbin_default") {
			t.Fatalf("served config lacks the cluster:\n%.500s", cfg)
		}
	})
}
