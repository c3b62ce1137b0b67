package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource/kubetest"
	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
)

// kubeServe starts `gluon serve` in Kubernetes mode, in namespace
// gluon-system, with extra flags.
func kubeServe(t *testing.T, kubeconfig string, extra ...string) *controlPlane {
	t.Helper()
	cp := &controlPlane{xds: freeAddr(t), admin: freeAddr(t), rls: freeAddr(t), stateDir: t.TempDir()}
	cp.proc = startGluon(t, append([]string{"serve", "--kubeconfig", kubeconfig, "--namespace", "gluon-system", "--state-dir", cp.stateDir,
		"--xds-addr", cp.xds, "--admin-addr", cp.admin, "--ratelimit-addr", cp.rls,
		"--gateway-api-bind-address", "127.0.0.1"}, extra...)...)
	waitFor(t, 30*time.Second, "control plane ready", func() bool {
		code, _ := get(t, "http://"+cp.admin+"/readyz", nil)
		return code == 200
	})
	return cp
}

// webhookFlags run the admission webhook on loopback, refusing changes while
// it is down; the test's cleanup removes its configuration, so that later
// tests on the same API server do not call a webhook that is gone.
func webhookFlags(t *testing.T, c ctrlclient.Client) []string {
	t.Helper()
	addr := freeAddr(t)
	t.Cleanup(func() {
		cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "gluon"}}
		_ = ctrlclient.IgnoreNotFound(c.Delete(context.Background(), cfg))
	})
	return []string{"--webhook-addr", addr, "--webhook-url", "https://" + addr, "--webhook-failure-policy", "Fail"}
}

// Pod addresses: EndpointSlices refuse loopback addresses, so the tests
// put two addresses of the benchmarking range (RFC 2544, never routed) on
// the loopback interface, as a kind cluster's pod network would be.
var podIPs = []string{"198.18.0.1", "198.18.0.2"}

// podPair starts two backends on one port, one per pod address, like two
// pods of a Deployment: one EndpointSlice port serves both.
func podPair(t *testing.T, h http.HandlerFunc) (port int32) {
	t.Helper()
	return servePodPair(t, func(l net.Listener) {
		srv := &http.Server{Handler: h}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
	})
}

// servePodPair listens on one port of both pod addresses and has serve
// serve each listener.
func servePodPair(t *testing.T, serve func(net.Listener)) (port int32) {
	t.Helper()
	addPodIPs(t)
	for range 20 {
		a, err := net.Listen("tcp", podIPs[0]+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.Addr().(*net.TCPAddr).Port
		b, err := net.Listen("tcp", fmt.Sprintf("%s:%d", podIPs[1], port))
		if err != nil {
			a.Close()
			continue
		}
		serve(a)
		serve(b)
		return int32(port)
	}
	t.Fatal("no port free on both pod addresses")
	return 0
}

var podIPsAdded struct {
	once  sync.Once
	added []string
	err   error
}

// addPodIPs puts the pod addresses on lo, once per binary; it needs root,
// as CI has.
func addPodIPs(t *testing.T) {
	t.Helper()
	podIPsAdded.once.Do(func() {
		for _, ip := range podIPs {
			out, err := exec.Command("ip", "addr", "add", ip+"/32", "dev", "lo").CombinedOutput()
			if err != nil && !strings.Contains(string(out), "already assigned") && !strings.Contains(string(out), "File exists") {
				podIPsAdded.err = fmt.Errorf("ip addr add %s dev lo (needs root and iproute2): %v: %s", ip, err, out)
				return
			}
			if err == nil {
				podIPsAdded.added = append(podIPsAdded.added, ip)
			}
		}
	})
	if podIPsAdded.err != nil {
		t.Fatal(podIPsAdded.err)
	}
}

func removePodIPs() {
	for _, ip := range podIPsAdded.added {
		_ = exec.Command("ip", "addr", "del", ip+"/32", "dev", "lo").Run()
	}
}

// endpointSlice lists ready endpoints ips on port, named "http" as the
// Service's port is.
func endpointSlice(ns, svc string, port int32, ips ...string) *discoveryv1.EndpointSlice {
	name := "http"
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: svc + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
	}
	for _, ip := range ips {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}})
	}
	return s
}

func kubeService(ns, name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
}

func createNamespaces(t *testing.T, c ctrlclient.Client, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}); err != nil {
			t.Fatal(err)
		}
	}
}

const kubeRoutes = `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: pets, namespace: shop}
spec:
  virtualHost:
    domains: ["*"]
    routes:
    - matchers: [{exact: /pet}]
      routeAction:
        single:
          upstream: {name: shop-pets-80, namespace: gluon-system}
          destinationSpec: {rest: {functionName: findPetById, parameters: {headers: {x-pet-id: "{id}"}}}}
`

// TestKubernetesOperator is issue 7's story on a real API server: a
// Service appears, becomes an Upstream with its endpoints and functions, a
// VirtualService routes to a function, scaling changes EDS, and bad
// VirtualServices are refused by the webhook or, written around it,
// rejected in status while the rest keeps serving.
func TestKubernetesOperator(t *testing.T) {
	env, kubeconfig := kubeEnv(t)
	c, _ := kubetest.Clients(t, env.Config)
	ctx := context.Background()
	createNamespaces(t, c, "shop")
	port := podPair(t, petstore.Handler(petstore.Swagger2).ServeHTTP)
	slice := endpointSlice("shop", "pets", port, podIPs[0])
	for _, o := range []ctrlclient.Object{kubeService("shop", "pets"), slice} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	cp := kubeServe(t, kubeconfig, webhookFlags(t, c)...)

	var u api.Upstream
	waitFor(t, 20*time.Second, "discovered upstream with its functions in status", func() bool {
		err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "gluon-system", Name: "shop-pets-80"}, &u)
		return err == nil && u.Status != nil && u.Status.Functions > 0 && u.Status.State == api.Accepted
	})
	if u.Spec.Kube == nil || u.Spec.Kube.ServiceName != "pets" || u.Status.Type != "kube" {
		t.Fatalf("upstream %+v status %+v", u.Spec, u.Status)
	}

	gw := freeAddr(t)
	createYAML(t, c, &api.Gateway{}, fmt.Sprintf("metadata: {name: http, namespace: gluon-system}\nspec: {bindAddress: 127.0.0.1, bindPort: %s}", portOf(gw)))
	createYAML(t, c, &api.VirtualService{}, kubeRoutes)
	waitFor(t, 15*time.Second, "the function is served", func() bool {
		code, body := get(t, "http://"+gw+"/pet", map[string]string{"x-pet-id": "1"})
		return code == 200 && strings.Contains(body, `"id":1`)
	})

	t.Run("gluonctl in Kubernetes mode", func(t *testing.T) {
		kubectl := func(args ...string) string {
			t.Helper()
			out, code := runGluonctl(t, append([]string{"--kubeconfig", kubeconfig, "--admin-addr", cp.admin}, args...)...)
			if code != 0 {
				t.Fatalf("gluonctl %s: exit %d\n%s", strings.Join(args, " "), code, out)
			}
			return out
		}
		table := kubectl("-n", "gluon-system", "get", "upstreams")
		for _, want := range []string{"shop-pets-80", "Kubernetes", "svc name: pets", "findPetById"} {
			if !strings.Contains(table, want) {
				t.Errorf("get upstreams lacks %q:\n%s", want, table)
			}
		}
		kubectl("-n", "shop", "create", "upstream", "kube", "pets-by-hand", "--kube-service", "pets", "--kube-service-port", "80")
		var mine api.Upstream
		if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "shop", Name: "pets-by-hand"}, &mine); err != nil || mine.Spec.Kube == nil || mine.Spec.Kube.ServiceNamespace != "shop" {
			t.Fatalf("gluonctl's upstream in the cluster: %+v (%v)", mine.Spec, err)
		}
		kubectl("-n", "shop", "delete", "upstream", "pets-by-hand")
		if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "shop", Name: "pets-by-hand"}, &mine); err == nil {
			t.Fatal("gluonctl delete left the upstream")
		}
	})

	t.Run("scaling the EndpointSlice changes EDS", func(t *testing.T) {
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{podIPs[1]}})
		if err := c.Update(ctx, slice); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the new endpoint in the served config", func() bool {
			_, snap := get(t, "http://"+cp.admin+"/snapshot", nil)
			return strings.Contains(snap, podIPs[1])
		})
	})

	t.Run("the webhook refuses a bad VirtualService with its reason", func(t *testing.T) {
		bad := &api.VirtualService{}
		err := yamlInto(bad, "metadata: {name: bad, namespace: shop}\nspec: {virtualHost: {domains: [bad.test], routes: [{matchers: [{prefix: nope}], directResponseAction: {status: 200}}]}}")
		if err == nil {
			err = c.Create(ctx, bad)
		}
		if err == nil || !strings.Contains(err.Error(), "must start with /") {
			t.Fatalf("create: %v", err)
		}
		unknown := &api.VirtualService{}
		err = yamlInto(unknown, strings.ReplaceAll(strings.ReplaceAll(kubeRoutes, "name: pets,", "name: typo,"), "findPetById", "findPetByIdd"))
		if err == nil {
			err = c.Create(ctx, unknown)
		}
		if err == nil || !strings.Contains(err.Error(), "findPetByIdd") {
			t.Fatalf("a route to an unknown function was let through: %v", err)
		}
		// Its verdicts are timed.
		_, metrics := get(t, "http://"+cp.admin+"/metrics", nil)
		if !regexp.MustCompile(`gluon_admission_duration_seconds_count\{verdict="denied"\} [1-9]`).MatchString(metrics) {
			t.Error("/metrics does not count the webhook's denials")
		}
	})

	t.Run("a bad VirtualService written around the webhook is Rejected; the rest keeps serving", func(t *testing.T) {
		cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "gluon"}}
		if err := c.Delete(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		// The API server drops the webhook from its informer shortly after.
		waitFor(t, 10*time.Second, "the bad VirtualService written without the webhook", func() bool {
			bad := &api.VirtualService{}
			if err := yamlInto(bad, "metadata: {name: bad, namespace: shop}\nspec: {virtualHost: {domains: [bad.test], routes: [{matchers: [{prefix: nope}], directResponseAction: {status: 200}}]}}"); err != nil {
				t.Fatal(err)
			}
			return c.Create(ctx, bad) == nil
		})
		var vs api.VirtualService
		waitFor(t, 10*time.Second, "status Rejected with the reason", func() bool {
			err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "shop", Name: "bad"}, &vs)
			return err == nil && vs.Status != nil && vs.Status.State == api.Rejected && strings.Contains(vs.Status.Reason, "must start with /")
		})
		if code, _ := get(t, "http://"+gw+"/pet", map[string]string{"x-pet-id": "1"}); code != 200 {
			t.Fatalf("the good route stopped serving: %d", code)
		}
		// gluonctl check without the admin endpoint reads the cluster's status.
		out, code := runGluonctl(t, "--kubeconfig", kubeconfig, "--admin-addr", freeAddr(t), "check")
		if code != 1 || !strings.Contains(out, "Rejected VirtualService shop/bad") ||
			!strings.Contains(out, "must start with /") || !strings.Contains(out, "read from the cluster") {
			t.Fatalf("gluonctl check from the cluster: exit %d\n%s", code, out)
		}
	})
}

func yamlInto(obj any, doc string) error { return yaml.UnmarshalStrict([]byte(doc), obj) }
