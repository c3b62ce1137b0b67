package kube_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource/kubetest"
	udskube "github.com/gluon-gateway/gluon/uds/kube"
)

var cfg *rest.Config

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m, &cfg)) }

func TestUDSFollowsServicesWithoutClobberingEdits(t *testing.T) {
	c, ca := kubetest.Clients(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, ns := range []string{"gluon-system", "shop", "quiet"} {
		n := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
		if ns == "quiet" {
			n.Labels = map[string]string{api.DiscoveryLabel: "disabled"}
		}
		if err := c.Create(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	pets := svc("shop", "pets", 80, 9090)
	pets.Labels = map[string]string{api.FunctionDiscoveryLabel: "enabled"}
	hidden := svc("shop", "hidden", 80)
	hidden.Annotations = map[string]string{api.DiscoveryLabel: "disabled"}
	for _, o := range []client.Object{pets, hidden, svc("quiet", "db", 5432)} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	uds := &udskube.UDS{Client: c, Cache: ca, Namespace: "gluon-system", Log: slog.New(slog.DiscardHandler)}
	go func() { _ = uds.Run(ctx) }()
	kubetest.Eventually(t, "an upstream per port of the discoverable service", func() error {
		return wantUpstreams(ctx, c, "default-kubernetes-443,shop-pets-80,shop-pets-9090")
	})
	var u api.Upstream
	key := client.ObjectKey{Namespace: "gluon-system", Name: "shop-pets-80"}
	if err := c.Get(ctx, key, &u); err != nil {
		t.Fatal(err)
	}
	if k := u.Spec.Kube; k == nil || k.ServiceName != "pets" || k.ServiceNamespace != "shop" || k.ServicePort != 80 ||
		u.Labels[api.DiscoveredLabel] != "kube" || u.Labels[api.FunctionDiscoveryLabel] != "enabled" {
		t.Fatalf("discovered upstream %+v labels %v", u.Spec.Kube, u.Labels)
	}

	// A user's edit survives the next reconcile, which a Service change forces.
	u.Spec.SSLConfig = &api.UpstreamSSLConfig{Sni: "pets.example.com"}
	u.Labels["team"] = "pets"
	if err := c.Update(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, svc("shop", "toys", 8080)); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, "the new service's upstream", func() error {
		return wantUpstreams(ctx, c, "default-kubernetes-443,shop-pets-80,shop-pets-9090,shop-toys-8080")
	})
	if err := c.Get(ctx, key, &u); err != nil {
		t.Fatal(err)
	}
	if u.Spec.SSLConfig == nil || u.Labels["team"] != "pets" {
		t.Fatalf("the user's edit was clobbered: %+v %v", u.Spec, u.Labels)
	}

	// A deleted Service takes its upstreams along.
	if err := c.Delete(ctx, pets); err != nil {
		t.Fatal(err)
	}
	kubetest.Eventually(t, "the deleted service's upstreams gone", func() error {
		return wantUpstreams(ctx, c, "default-kubernetes-443,shop-toys-8080")
	})
}

func svc(ns, name string, ports ...int32) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for _, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: fmt.Sprint("p", p), Port: p})
	}
	return s
}

func wantUpstreams(ctx context.Context, c client.Client, want string) error {
	var list api.UpstreamList
	if err := c.List(ctx, &list, client.InNamespace("gluon-system")); err != nil {
		return err
	}
	var names []string
	for _, u := range list.Items {
		names = append(names, u.Name)
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != want {
		return fmt.Errorf("upstreams %q, want %q", got, want)
	}
	return nil
}
