package e2e

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api/kubesource/kubetest"
)

// kube is one API server for the whole e2e binary, started by the first
// test that needs it: installing CRDs takes seconds.
var kube struct {
	once       sync.Once
	env        *kubetest.Env
	kubeconfig string
	err        error
}

func kubeEnv(t *testing.T) (*kubetest.Env, string) {
	t.Helper()
	kube.once.Do(func() {
		kube.env, kube.err = kubetest.Start()
		if kube.err != nil {
			return
		}
		dir, err := os.MkdirTemp("", "gluon-e2e-kube-")
		if err != nil {
			kube.err = err
			return
		}
		// Gluon runs as deploy/'s ServiceAccount, so that its RBAC is tested.
		c, err := ctrlclient.New(kube.env.Config, ctrlclient.Options{})
		if err == nil {
			err = kube.env.Apply(c, "deploy/namespace.yaml", "deploy/rbac.yaml", "deploy/gatewayclass.yaml")
		}
		if err != nil {
			kube.err = err
			return
		}
		kube.kubeconfig, kube.err = kube.env.Kubeconfig(dir, "system:serviceaccount:gluon-system:gluon", "system:serviceaccounts")
	})
	if kube.err != nil {
		t.Fatalf("kube-apiserver: %v", kube.err)
	}
	return kube.env, kube.kubeconfig
}

func stopKube() {
	removePodIPs()
	if kube.env != nil {
		if err := kube.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the API server:", err)
		}
	}
}

// apply creates each object given as YAML into obj's type.
func createYAML(t *testing.T, c ctrlclient.Client, obj ctrlclient.Object, doc string) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %s: %v", obj.GetName(), err)
	}
}
