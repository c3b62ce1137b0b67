package e2e

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource/kubetest"
)

// TestKubernetesTwoReplicas: two Gluons share the cluster. Both serve the
// config; one leads (upstream discovery, status); when it stops, the other
// takes over and discovers the next Service.
func TestKubernetesTwoReplicas(t *testing.T) {
	env, kubeconfig := kubeEnv(t)
	c, _ := kubetest.Clients(t, env.Config)
	ctx := context.Background()
	createNamespaces(t, c, "replicas")
	first := kubeServe(t, kubeconfig, "--dataplane", "none")
	var lease coordinationv1.Lease
	waitFor(t, 10*time.Second, "the first replica leads", func() bool {
		err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "gluon-system", Name: "gluon-leader"}, &lease)
		return err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != ""
	})
	leader := *lease.Spec.HolderIdentity
	second := kubeServe(t, kubeconfig, "--dataplane", "none")

	if err := c.Create(ctx, kubeService("replicas", "one")); err != nil {
		t.Fatal(err)
	}
	waitForUpstream(t, c, "replicas-one-80")
	for _, cp := range []*controlPlane{first, second} {
		waitFor(t, 10*time.Second, "both replicas translate the discovered upstream", func() bool {
			_, st := get(t, "http://"+cp.admin+"/statusz", nil)
			return strings.Contains(st, "replicas-one-80")
		})
	}

	// The leader gives its lease up as it stops; the other takes over.
	first.stop(syscall.SIGTERM)
	waitFor(t, 20*time.Second, "the second replica leads", func() bool {
		err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "gluon-system", Name: "gluon-leader"}, &lease)
		return err == nil && lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "" && *lease.Spec.HolderIdentity != leader
	})
	if err := c.Create(ctx, kubeService("replicas", "two")); err != nil {
		t.Fatal(err)
	}
	waitForUpstream(t, c, "replicas-two-80")
}

func waitForUpstream(t *testing.T, c ctrlclient.Client, name string) {
	t.Helper()
	waitFor(t, 15*time.Second, "upstream "+name, func() bool {
		var u api.Upstream
		return c.Get(context.Background(), ctrlclient.ObjectKey{Namespace: "gluon-system", Name: name}, &u) == nil
	})
}

// TestKubernetesWatchNamespaces: with --watch-namespaces, Services outside
// them are not discovered, while discovered Upstreams (in Gluon's own
// namespace) are still read.
func TestKubernetesWatchNamespaces(t *testing.T) {
	env, kubeconfig := kubeEnv(t)
	c, _ := kubetest.Clients(t, env.Config)
	ctx := context.Background()
	createNamespaces(t, c, "watched", "unwatched")
	cp := kubeServe(t, kubeconfig, "--dataplane", "none", "--watch-namespaces", "watched", "--leader-elect=false")
	for _, ns := range []string{"watched", "unwatched"} {
		if err := c.Create(ctx, kubeService(ns, "svc")); err != nil {
			t.Fatal(err)
		}
	}
	waitForUpstream(t, c, "watched-svc-80")
	waitFor(t, 10*time.Second, "the control plane serves the discovered upstream", func() bool {
		_, st := get(t, "http://"+cp.admin+"/statusz", nil)
		return strings.Contains(st, "watched-svc-80")
	})
	time.Sleep(time.Second) // a Service outside would have been discovered by now
	var u api.Upstream
	if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "gluon-system", Name: "unwatched-svc-80"}, &u); err == nil {
		t.Fatal("a Service outside --watch-namespaces was discovered")
	}
}
