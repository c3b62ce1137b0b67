// Package kubetest starts a real kube-apiserver and etcd on loopback for
// tests (controller-runtime's envtest), with Gluon's CRDs and the Gateway
// API's installed. The binaries come from scripts/kube-testenv, which builds
// them once from the Go module proxy and caches them outside the repo.
package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api/kubesource"
)

// gatewayAPICRDs are the Gateway API kinds Gluon serves.
var gatewayAPICRDs = []string{"gatewayclasses", "gateways", "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "referencegrants"}

// Env is a running API server.
type Env struct {
	env    *envtest.Environment
	Config *rest.Config
}

// Start starts etcd and kube-apiserver and installs the CRDs. Call Stop.
func Start() (*Env, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	assets, err := binaries(root)
	if err != nil {
		return nil, err
	}
	crds, err := crdPaths(root)
	if err != nil {
		return nil, err
	}
	e := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions:     envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true},
	}
	cfg, err := e.Start()
	if err != nil {
		// Start may fail after the servers run (a CRD that does not
		// install): stop them, or they outlive the test.
		return nil, errors.Join(fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err), e.Stop())
	}
	return &Env{env: e, Config: cfg}, nil
}

// Stop stops both servers and removes their data.
func (e *Env) Stop() error { return e.env.Stop() }

// Kubeconfig writes a kubeconfig for user (with groups) into dir and
// returns its path, for processes the test starts.
func (e *Env) Kubeconfig(dir, user string, groups ...string) (string, error) {
	u, err := e.env.AddUser(envtest.User{Name: user, Groups: groups}, nil)
	if err != nil {
		return "", fmt.Errorf("adding user %s: %w", user, err)
	}
	data, err := u.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

// Apply creates every object of the multi-document YAML files (paths
// relative to the repository root).
func (e *Env) Apply(c client.Client, files ...string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return err
		}
		for i, doc := range strings.Split(string(data), "\n---\n") {
			var u unstructured.Unstructured
			if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
				return fmt.Errorf("%s#%d: %w", f, i, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			if err := c.Create(context.Background(), &u); err != nil {
				return fmt.Errorf("%s#%d: %w", f, i, err)
			}
		}
	}
	return nil
}

// binaries returns KUBEBUILDER_ASSETS, or asks scripts/kube-testenv for the
// cached build (building it the first time, 10-20 minutes).
func binaries(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	out, err := exec.Command(filepath.Join(root, "scripts", "kube-testenv")).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("%w: %s", err, exit.Stderr)
		}
		return "", fmt.Errorf("scripts/kube-testenv: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func crdPaths(root string) ([]string, error) {
	paths := []string{filepath.Join(root, "deploy", "crds")}
	dir, err := gatewayAPIDir(root)
	if err != nil {
		return nil, err
	}
	for _, kind := range gatewayAPICRDs {
		paths = append(paths, filepath.Join(dir, "config", "crd", "standard", "gateway.networking.k8s.io_"+kind+".yaml"))
	}
	return paths, nil
}

// gatewayAPIDir is the module folder of the gateway-api version go.mod
// pins, where its CRD manifests are.
func gatewayAPIDir(root string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("finding the gateway-api module: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "kube-testenv")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the gluon repository")
		}
		dir = parent
	}
}

// Main starts an API server for a test binary, runs its tests with *cfg
// set, stops the server and returns the exit code. CRDs take seconds to
// install, so a package starts one server for all its tests.
func Main(m *testing.M, cfg **rest.Config) int {
	env, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*cfg = env.Config
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the API server:", err)
	}
	return code
}

// Clients returns a direct client and a started cache for cfg, with the
// types of Gluon's Kubernetes source.
func Clients(t testing.TB, cfg *rest.Config) (client.Client, cache.Cache) {
	t.Helper()
	scheme, err := kubesource.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := cache.New(cfg, cache.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = ca.Start(ctx) }()
	return c, ca
}

// Eventually retries cond for up to ten seconds.
func Eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
