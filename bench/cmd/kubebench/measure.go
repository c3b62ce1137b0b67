package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource"
	"github.com/gluon-gateway/gluon/api/kubesource/kubetest"
	"github.com/gluon-gateway/gluon/bench/internal/benchkit"
	"github.com/gluon-gateway/gluon/bench/internal/xdsclient"
)

const benchNS = "bench"

// benchClient writes as an admin, without client-side rate limits.
func benchClient(env *kubetest.Env) (ctrlclient.Client, error) {
	scheme, err := kubesource.NewScheme()
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS = -1
	return ctrlclient.New(cfg, ctrlclient.Options{Scheme: scheme})
}

func serviceName(i int) string { return fmt.Sprintf("svc-%04d", i) }

func clusterName(i int) string { return fmt.Sprintf("%s-%s-80_gluon-system", benchNS, serviceName(i)) }

// measureServices creates the Services and their slices in parallel and
// times the Upstreams UDS writes and the snapshot that serves them.
func measureServices(ctx context.Context, c ctrlclient.Client, xds *xdsclient.Client, n int) ([]benchkit.Row, error) {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchNS}}); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := benchkit.Parallel(n, 16, func(i int) error {
		if err := c.Create(ctx, service(i)); err != nil {
			return err
		}
		return c.Create(ctx, slice(i, "10.0.0.1"))
	}); err != nil {
		return nil, err
	}
	created := time.Since(start)
	for {
		var list api.UpstreamList
		if err := c.List(ctx, &list, ctrlclient.InNamespace("gluon-system")); err != nil {
			return nil, err
		}
		found := 0
		for _, u := range list.Items {
			if strings.HasPrefix(u.Name, benchNS+"-") {
				found++
			}
		}
		if found >= n {
			break
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	upstreams := time.Since(start)
	if err := xds.WaitUntil(ctx, 5*time.Minute, func() bool { return xds.Clusters >= n }); err != nil {
		return nil, fmt.Errorf("waiting for %d clusters: %w", n, err)
	}
	snapshot := time.Since(start)
	return []benchkit.Row{
		benchkit.Line(fmt.Sprintf("%d Services + EndpointSlices created (16 writers)", n), benchkit.Secs(created), "-"),
		benchkit.Line(fmt.Sprintf("  → %d Upstreams written by UDS", n), benchkit.Secs(upstreams), "-"),
		benchkit.Line(fmt.Sprintf("  → xDS snapshot with %d clusters pushed", n), benchkit.Secs(snapshot), "-"),
	}, nil
}

// measureEDS changes one EndpointSlice at a time and times until the new
// endpoint arrives at the xDS client.
func measureEDS(ctx context.Context, c ctrlclient.Client, xds *xdsclient.Client, adminAddr string, services, rounds int) ([]benchkit.Row, error) {
	if err := xds.SubscribeEDS(); err != nil {
		return nil, err
	}
	if err := xds.WaitUntil(ctx, time.Minute, func() bool { return len(xds.Endpoints) >= services }); err != nil {
		return nil, fmt.Errorf("waiting for EDS of %d clusters (have %d): %w", services, len(xds.Endpoints), err)
	}
	stopProfile := benchkit.Profile(adminAddr, os.Getenv("KUBEBENCH_CPUPROFILE"))
	defer stopProfile()
	var lat []time.Duration
	for r := range rounds {
		i := r % services
		ip := fmt.Sprintf("10.1.%d.%d", r/250, r%250+1)
		var s discoveryv1.EndpointSlice
		if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: benchNS, Name: serviceName(i)}, &s); err != nil {
			return nil, err
		}
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}})
		start := time.Now()
		if err := c.Update(ctx, &s); err != nil {
			return nil, err
		}
		key := ip + ":8080"
		seenAt, err := xds.FirstSeen(ctx, clusterName(i), key, 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("round %d: %w", r, err)
		}
		lat = append(lat, seenAt.Sub(start))
	}
	return benchkit.LatencyRows("EndpointSlice change → EDS push", lat, "≤ 100 ms"), nil
}

// measureAdmission times creating a VirtualService through the API server
// while the config holds a 1,000-route VirtualService; the webhook runs the
// full translation on each.
func measureAdmission(ctx context.Context, c ctrlclient.Client, services int) ([]benchkit.Row, error) {
	big := &api.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: benchNS, Name: "big"}}
	big.Spec.VirtualHost.Domains = []string{"big.test"}
	for i := range 1000 {
		big.Spec.VirtualHost.Routes = append(big.Spec.VirtualHost.Routes, api.Route{
			Matchers: []api.Matcher{{Prefix: fmt.Sprintf("/r%04d/", i)}},
			RouteAction: &api.RouteAction{Single: &api.Destination{Upstream: &api.ResourceRef{
				Namespace: "gluon-system", Name: fmt.Sprintf("%s-%s-80", benchNS, serviceName(i%services))}}},
		})
	}
	if err := c.Create(ctx, big); err != nil {
		return nil, fmt.Errorf("creating the 1,000-route VirtualService: %w", err)
	}
	time.Sleep(2 * time.Second) // let it become the current config
	var lat []time.Duration
	for i := range 30 {
		vs := &api.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: benchNS, Name: fmt.Sprintf("small-%02d", i)}}
		vs.Spec.VirtualHost.Domains = []string{fmt.Sprintf("small-%02d.test", i)}
		vs.Spec.VirtualHost.Routes = []api.Route{{DirectResponseAction: &api.DirectResponseAction{Status: 200}}}
		start := time.Now()
		if err := c.Create(ctx, vs, ctrlclient.DryRunAll); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(start))
	}
	return []benchkit.Row{
		benchkit.Line("VirtualService create with webhook, 1,000-route config, p50", benchkit.Ms(benchkit.Percentile(lat, 50)), "-"),
		benchkit.Line("VirtualService create with webhook, 1,000-route config, p99", benchkit.Ms(benchkit.Percentile(lat, 99)), "< 50 ms"),
	}, nil
}

func service(i int) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchNS, Name: serviceName(i)},
		// Headless: the test API server has only 256 cluster IPs.
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
}

func slice(i int, ip string) *discoveryv1.EndpointSlice {
	name, port := "http", int32(8080)
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: benchNS, Name: serviceName(i), Labels: map[string]string{discoveryv1.LabelServiceName: serviceName(i)}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}}},
	}
}
