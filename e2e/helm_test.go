package e2e

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource/kubetest"
)

const chart = "../deploy/helm/gluon"

// helm runs the helm binary (built by scripts/helm-testenv) and returns
// its output; a failure is an error, for tests that expect one.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(cachedTool(t, "GLUON_HELM", "helm-testenv"), args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func mustHelm(t *testing.T, args ...string) string {
	t.Helper()
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// objects decodes multi-document YAML into objects by kind/namespace/name.
func objects(t *testing.T, docs ...string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, doc := range docs {
		r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(doc)))
		for {
			raw, err := r.Read()
			if err != nil {
				break
			}
			var doc any
			if err := yaml.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			o, ok := doc.(map[string]any)
			if !ok {
				continue // only comments, or helm's notes
			}
			meta, _ := o["metadata"].(map[string]any)
			ns, _ := meta["namespace"].(string)
			name, _ := meta["name"].(string)
			out[o["kind"].(string)+" "+ns+"/"+name] = o
		}
	}
	return out
}

// TestHelmChart: the chart lints; with its defaults it renders exactly the
// objects of the kustomize tree (deploy/), so the two cannot drift; a
// values change shows in the Deployment; its schema refuses a wrong type;
// and `helm install` against a real kube-apiserver creates the CRDs, the
// RBAC and the Deployment.
func TestHelmChart(t *testing.T) {
	mustHelm(t, "lint", chart)

	rendered := objects(t, mustHelm(t, "template", "gluon", chart, "--namespace", "gluon-system", "--include-crds"))
	var files []string
	crds, err := filepath.Glob("../deploy/crds/*.yaml")
	if err != nil || len(crds) == 0 {
		t.Fatalf("CRDs %v %v", crds, err)
	}
	for _, f := range append([]string{"../deploy/rbac.yaml", "../deploy/deployment.yaml"}, crds...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, string(b))
	}
	kustomized := objects(t, files...)
	// 5 RBAC objects, the Deployment, 3 Services and the CRDs.
	if len(kustomized) != 9+len(crds) {
		t.Fatalf("deploy/ has %d objects, want %d", len(kustomized), 9+len(crds))
	}
	for key, want := range kustomized {
		if got, ok := rendered[key]; !ok {
			t.Errorf("the chart does not render %s", key)
		} else if !reflect.DeepEqual(got, want) {
			g, _ := yaml.Marshal(got)
			w, _ := yaml.Marshal(want)
			t.Errorf("%s differs:\nchart:\n%s\ndeploy/:\n%s", key, g, w)
		}
	}
	for key := range rendered {
		if _, ok := kustomized[key]; !ok {
			t.Errorf("the chart renders %s, which deploy/ lacks", key)
		}
	}

	t.Run("values show in the Deployment", func(t *testing.T) {
		out := objects(t, mustHelm(t, "template", "gluon", chart, "--namespace", "gluon-system",
			"--set", "replicas=3", "--set", "resources.limits.cpu=2", "--set", "redis.address=redis:6379", "--set", "gatewayClass.enabled=true"))
		d := out["Deployment gluon-system/gluon"]
		spec := d["spec"].(map[string]any)
		c := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		if spec["replicas"] != float64(3) || c["resources"].(map[string]any)["limits"].(map[string]any)["cpu"] != float64(2) ||
			!slices.Contains(c["args"].([]any), any("--redis-addr=redis:6379")) {
			t.Errorf("deployment %v", d)
		}
		if _, ok := out["GatewayClass /gluon"]; !ok {
			t.Errorf("no GatewayClass with gatewayClass.enabled")
		}
	})
	t.Run("the schema refuses a wrong type", func(t *testing.T) {
		out, err := helm(t, "template", "gluon", chart, "--set", "replicas=two")
		if err == nil || !strings.Contains(out, "replicas") {
			t.Errorf("replicas=two: %v\n%s", err, out)
		}
	})
	t.Run("helm install on a real kube-apiserver", func(t *testing.T) {
		env, err := kubetest.Start()
		if err != nil {
			t.Fatal(err)
		}
		defer env.Stop()
		kubeconfig, err := env.Kubeconfig(t.TempDir(), "helm", "system:masters")
		if err != nil {
			t.Fatal(err)
		}
		mustHelm(t, "install", "gluon", chart, "--namespace", "gluon-system", "--create-namespace", "--kubeconfig", kubeconfig)
		c, _ := kubetest.Clients(t, env.Config)
		ctx := context.Background()
		if err := c.Get(ctx, ctrlclient.ObjectKey{Name: "gluon"}, &rbacv1.ClusterRole{}); err != nil {
			t.Errorf("ClusterRole gluon: %v", err)
		}
		var d appsv1.Deployment
		if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "gluon-system", Name: "gluon"}, &d); err != nil || *d.Spec.Replicas != 2 {
			t.Errorf("Deployment gluon-system/gluon: %v", err)
		}
		// The CRDs are served: their kinds can be listed.
		waitFor(t, 10*time.Second, "RouteOptions served", func() bool { return c.List(ctx, &api.RouteOptionList{}) == nil })
	})
}
