package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource/kubetest"
)

const httpRoute = `metadata: {name: colours, namespace: web}
spec:
  parentRefs: [{name: web}]
  hostnames: [colours.test]
  rules:
  - matches: [{path: {type: PathPrefix, value: /paint}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-route, value: gateway-api}]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-served-by, value: gluon}]}
    backendRefs:
    - {name: blue, port: 80, weight: 3}
    - {name: green, port: 80, weight: 1}
`

// colour answers with its name and the x-route header it was sent.
func colour(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s x-route=%s", name, r.Header.Get("x-route"))
	}
}

// TestKubernetesGatewayAPI: an HTTPRoute with weights and header filters,
// attached to a Gateway of Gluon's class, is served by a data plane asking
// for that Gateway's proxy, and the route, Gateway and class get their
// status conditions. A RouteOption, named by an ExtensionRef, guards a
// route with API keys from a labelled Secret.
func TestKubernetesGatewayAPI(t *testing.T) {
	env, kubeconfig := kubeEnv(t)
	c, _ := kubetest.Clients(t, env.Config)
	ctx := context.Background()
	createNamespaces(t, c, "web")
	for _, name := range []string{"blue", "green"} {
		port := podPair(t, colour(name))
		for _, o := range []ctrlclient.Object{kubeService("web", name), endpointSlice("web", name, port, podIPs[0])} {
			if err := c.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
	}
	cp := kubeServe(t, kubeconfig)
	startGluon(t, "dataplane", "--xds-addr", cp.xds, "--proxy", "web-web", "--node-id", "e2e-web")
	listen := freeAddr(t)
	createYAML(t, c, &gwv1.Gateway{}, fmt.Sprintf(`metadata: {name: web, namespace: web}
spec:
  gatewayClassName: gluon
  listeners: [{name: http, protocol: HTTP, port: %s}]`, portOf(listen)))
	createYAML(t, c, &gwv1.HTTPRoute{}, httpRoute)

	host := map[string]string{"Host": "colours.test"}
	waitFor(t, 20*time.Second, "the HTTPRoute is served", func() bool {
		code, _ := get(t, "http://"+listen+"/paint", host)
		return code == 200
	})
	counts := map[string]int{}
	for range 200 {
		resp, body := getWithHeaders(t, "http://"+listen+"/paint/wall", "colours.test")
		if resp.Get("x-served-by") != "gluon" || !strings.HasSuffix(body, "x-route=gateway-api") {
			t.Fatalf("filters not applied: %v %q", resp, body)
		}
		counts[strings.Fields(body)[0]]++
	}
	// 3:1 over 200 requests: blue about 150. Bounds far outside chance.
	if counts["blue"] < 110 || counts["blue"] > 185 || counts["green"] == 0 {
		t.Fatalf("split %v, want about 150 blue / 50 green", counts)
	}
	if code, _ := get(t, "http://"+listen+"/other", host); code != 404 {
		t.Errorf("an unmatched path got %d, want 404", code)
	}

	var route gwv1.HTTPRoute
	waitFor(t, 10*time.Second, "HTTPRoute status Accepted and ResolvedRefs", func() bool {
		if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "web", Name: "colours"}, &route); err != nil || len(route.Status.Parents) != 1 {
			return false
		}
		p := route.Status.Parents[0]
		return p.ControllerName == api.GatewayControllerName &&
			meta.IsStatusConditionTrue(p.Conditions, string(gwv1.RouteConditionAccepted)) &&
			meta.IsStatusConditionTrue(p.Conditions, string(gwv1.RouteConditionResolvedRefs))
	})
	var gw gwv1.Gateway
	waitFor(t, 10*time.Second, "Gateway Programmed with one attached route", func() bool {
		if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "web", Name: "web"}, &gw); err != nil || len(gw.Status.Listeners) != 1 {
			return false
		}
		return meta.IsStatusConditionTrue(gw.Status.Conditions, string(gwv1.GatewayConditionProgrammed)) && gw.Status.Listeners[0].AttachedRoutes == 1
	})
	var class gwv1.GatewayClass
	if err := c.Get(ctx, ctrlclient.ObjectKey{Name: "gluon"}, &class); err != nil || !meta.IsStatusConditionTrue(class.Status.Conditions, string(gwv1.GatewayClassConditionStatusAccepted)) {
		t.Fatalf("GatewayClass status %+v (%v)", class.Status, err)
	}

	t.Run("an HTTPS listener serves the route with its certificate", func(t *testing.T) {
		ca := newTestCA(t)
		site := newSite(t, ca, "colours.test")
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "colours-tls", Namespace: "web"}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: site.cert, corev1.TLSPrivateKeyKey: site.key}}
		if err := c.Create(ctx, secret); err != nil {
			t.Fatal(err)
		}
		https := freeAddr(t)
		if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "web", Name: "web"}, &gw); err != nil {
			t.Fatal(err)
		}
		gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{Name: "https", Protocol: gwv1.HTTPSProtocolType,
			Port: gwv1.PortNumber(mustAtoi(t, portOf(https))),
			TLS:  &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "colours-tls"}}}})
		if err := c.Update(ctx, &gw); err != nil {
			t.Fatal(err)
		}
		client := httpsClient(https, ca, "colours.test", []string{"h2", "http/1.1"}, nil)
		waitFor(t, 20*time.Second, "the route served over HTTPS", func() bool {
			resp, err := client.Get("https://colours.test" + portSuffix(https) + "/paint")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200 && resp.TLS.PeerCertificates[0].SerialNumber.String() == site.serial
		})
	})

	t.Run("a TLSRoute passes TLS through to its backend", func(t *testing.T) {
		ca := newTestCA(t)
		site := newSite(t, ca, "secure.test")
		pair, err := tls.X509KeyPair(site.cert, site.key)
		if err != nil {
			t.Fatal(err)
		}
		addPodIPs(t)
		ln, err := net.Listen("tcp", podIPs[0]+":0")
		if err != nil {
			t.Fatal(err)
		}
		backend := startTCPServerOn(t, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}}), "secure: ")
		for _, o := range []ctrlclient.Object{kubeService("web", "secure"), endpointSlice("web", "secure", int32(backend.Port), podIPs[0])} {
			if err := c.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		passthrough := freeAddr(t)
		if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "web", Name: "web"}, &gw); err != nil {
			t.Fatal(err)
		}
		mode := gwv1.TLSModePassthrough
		gw.Spec.Listeners = append(gw.Spec.Listeners, gwv1.Listener{Name: "tls", Protocol: gwv1.TLSProtocolType,
			Port: gwv1.PortNumber(mustAtoi(t, portOf(passthrough))), TLS: &gwv1.ListenerTLSConfig{Mode: &mode}})
		if err := c.Update(ctx, &gw); err != nil {
			t.Fatal(err)
		}
		createYAML(t, c, &gwv1.TLSRoute{}, `metadata: {name: secure, namespace: web}
spec:
  parentRefs: [{name: web, sectionName: tls}]
  hostnames: [secure.test]
  rules: [{backendRefs: [{name: secure, port: 80}]}]`)
		pool := x509.NewCertPool()
		pool.AddCert(ca.cert)
		waitFor(t, 20*time.Second, "TLS passed through to the backend", func() bool {
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", passthrough, &tls.Config{ServerName: "secure.test", RootCAs: pool})
			if err != nil {
				return false
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
			io.WriteString(conn, "ping\n")
			line, err := bufio.NewReader(conn).ReadString('\n')
			return err == nil && line == "secure: ping\n"
		})
		var route gwv1.TLSRoute
		waitFor(t, 10*time.Second, "TLSRoute status Accepted", func() bool {
			if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "web", Name: "secure"}, &route); err != nil || len(route.Status.Parents) != 1 {
				return false
			}
			return meta.IsStatusConditionTrue(route.Status.Parents[0].Conditions, string(gwv1.RouteConditionAccepted))
		})
	})

	t.Run("a RouteOption named by an ExtensionRef admits only its API keys", func(t *testing.T) {
		key := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "painter", Namespace: "web", Labels: map[string]string{"team": "paint"}},
			Type: "gluon.dev/api-key", StringData: map[string]string{"api-key": "paint-key-1", "client-id": "painter"}}
		if err := c.Create(ctx, key); err != nil {
			t.Fatal(err)
		}
		createYAML(t, c, &api.RouteOption{}, `metadata: {name: painters, namespace: web}
spec:
  options: {apiKeyAuth: {labelSelector: {team: paint}}}`)
		createYAML(t, c, &gwv1.HTTPRoute{}, `metadata: {name: guarded, namespace: web}
spec:
  parentRefs: [{name: web}]
  hostnames: [guarded.test]
  rules:
  - filters: [{type: ExtensionRef, extensionRef: {group: gluon.dev, kind: RouteOption, name: painters}}]
    backendRefs: [{name: blue, port: 80}]`)
		withKey := map[string]string{"Host": "guarded.test", "api-key": "paint-key-1"}
		waitFor(t, 20*time.Second, "the guarded route served", func() bool { code, _ := get(t, "http://"+listen+"/", withKey); return code == 200 })
		for name, h := range map[string]map[string]string{"no key": {"Host": "guarded.test"}, "a wrong key": {"Host": "guarded.test", "api-key": "paint-key-2"}} {
			if code, _ := get(t, "http://"+listen+"/", h); code != 401 {
				t.Errorf("%s: %d, want 401", name, code)
			}
		}
		if code, _ := get(t, "http://"+listen+"/paint", host); code != 200 {
			t.Errorf("the other route of the Gateway: %d", code)
		}
		var ro api.RouteOption
		waitFor(t, 10*time.Second, "the RouteOption Accepted", func() bool {
			err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "web", Name: "painters"}, &ro)
			return err == nil && ro.Status != nil && ro.Status.State == api.Accepted
		})
	})

	t.Run("a GRPCRoute routes gRPC calls by method, with weights", func(t *testing.T) {
		testKubeGRPCRoute(t, c, listen)
	})
	t.Run("a backend that does not exist is reported in status", func(t *testing.T) {
		route.Spec.Rules[0].BackendRefs[1].Name = "purple"
		if err := c.Update(ctx, &route); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "ResolvedRefs False BackendNotFound", func() bool {
			if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "web", Name: "colours"}, &route); err != nil || len(route.Status.Parents) != 1 {
				return false
			}
			cond := meta.FindStatusCondition(route.Status.Parents[0].Conditions, string(gwv1.RouteConditionResolvedRefs))
			return cond != nil && cond.Status == "False" && cond.Reason == string(gwv1.RouteReasonBackendNotFound)
		})
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// getWithHeaders is a GET to host that also returns the response headers.
func getWithHeaders(t *testing.T, url, host string) (http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Header, string(body)
}

// testKubeGRPCRoute: a GRPCRoute on the Gateway's HTTP listener sends one
// method to one Service and the rest of the service split 1:3 between two
// Services over HTTP/2, its header filter applied; it gets its status.
func testKubeGRPCRoute(t *testing.T, c ctrlclient.Client, listen string) {
	ctx := context.Background()
	for _, name := range []string{"ruby", "jade"} {
		port := grpcPodPair(t, name)
		for _, o := range []ctrlclient.Object{kubeService("web", name), endpointSlice("web", name, port, podIPs...)} {
			if err := c.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
	}
	createYAML(t, c, &gwv1.GRPCRoute{}, `metadata: {name: paint, namespace: web}
spec:
  parentRefs: [{name: web}]
  rules:
  - matches: [{method: {service: colour.Paint, method: Mix}}]
    backendRefs: [{name: ruby, port: 80}]
  - matches: [{method: {service: colour.Paint}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-route, value: grpcroute}]}
    backendRefs:
    - {name: ruby, port: 80, weight: 1}
    - {name: jade, port: 80, weight: 3}
`)
	conn, err := grpc.NewClient(listen, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	call := func(method string) (metadata.MD, error) {
		var md metadata.MD
		err := conn.Invoke(callCtx, method, &testpb.Empty{}, &testpb.Empty{}, grpc.Header(&md))
		return md, err
	}
	waitFor(t, 20*time.Second, "the GRPCRoute is served", func() bool {
		_, err := call("/colour.Paint/Mix")
		return err == nil
	})
	counts := map[string]int{}
	for range 100 {
		md, err := call("/colour.Paint/Mix")
		if err != nil {
			t.Fatal(err)
		}
		counts["Mix "+md.Get("x-backend")[0]]++
		md, err = call("/colour.Paint/Blend")
		if err != nil {
			t.Fatal(err)
		}
		if md.Get("x-route")[0] != "grpcroute" {
			t.Fatalf("the rule's header filter was not applied: %v", md)
		}
		counts["Blend "+md.Get("x-backend")[0]]++
	}
	// 1:3 over 100 calls: jade about 75. Bounds far outside chance.
	if counts["Mix ruby"] != 100 || counts["Blend jade"] < 55 || counts["Blend jade"] > 92 || counts["Blend ruby"] == 0 {
		t.Fatalf("calls by backend %v, want Mix all ruby and Blend about 25 ruby / 75 jade", counts)
	}
	if _, err := call("/colour.Other/Mix"); status.Code(err) != codes.Unimplemented {
		t.Errorf("a service no rule matches: %v, want UNIMPLEMENTED (the gateway's 404 as gRPC)", err)
	}
	var route gwv1.GRPCRoute
	waitFor(t, 10*time.Second, "GRPCRoute status Accepted and ResolvedRefs", func() bool {
		if err := c.Get(ctx, ctrlclient.ObjectKey{Namespace: "web", Name: "paint"}, &route); err != nil || len(route.Status.Parents) != 1 {
			return false
		}
		p := route.Status.Parents[0]
		return p.ControllerName == api.GatewayControllerName &&
			meta.IsStatusConditionTrue(p.Conditions, string(gwv1.RouteConditionAccepted)) &&
			meta.IsStatusConditionTrue(p.Conditions, string(gwv1.RouteConditionResolvedRefs))
	})
}

// grpcPodPair serves, on one port of both pod addresses, a gRPC server
// that answers any method with an Empty and headers naming itself and the
// x-route it was sent.
func grpcPodPair(t *testing.T, name string) int32 {
	t.Helper()
	handler := func(_ any, stream grpc.ServerStream) error {
		if err := stream.RecvMsg(&testpb.Empty{}); err != nil {
			return err
		}
		in, _ := metadata.FromIncomingContext(stream.Context())
		route := ""
		if v := in.Get("x-route"); len(v) > 0 {
			route = v[0]
		}
		if err := stream.SendHeader(metadata.Pairs("x-backend", name, "x-route", route)); err != nil {
			return err
		}
		return stream.SendMsg(&testpb.Empty{})
	}
	return servePodPair(t, func(l net.Listener) {
		s := grpc.NewServer(grpc.UnknownServiceHandler(handler))
		go s.Serve(l)
		t.Cleanup(s.Stop)
	})
}
