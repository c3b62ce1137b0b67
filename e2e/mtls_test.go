package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/structpb"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// Two proxies, each with its own gateway, route and credentials: proxy a
// must never see b's.
const twoProxiesConfig = `apiVersion: gluon.dev/v1
kind: Settings
metadata: {name: settings}
spec:
  ratelimit:
    failureModeDeny: true
    descriptors:
    - key: client
      rateLimit: {unit: day, requestsPerUnit: 2}
---
apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: gw-a}
spec: {bindAddress: 127.0.0.1, bindPort: GA_PORT, proxyNames: [a], httpGateway: {virtualServices: [{name: vs-a}]}}
---
apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: gw-b}
spec: {bindAddress: 127.0.0.1, bindPort: GB_PORT, proxyNames: [b], httpGateway: {virtualServices: [{name: vs-b}]}}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: creds-a}
spec: {aws: {accessKey: AKIDPROXYAAAA, secretKey: secret-of-proxy-a}}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: creds-b}
spec: {aws: {accessKey: AKIDPROXYBBBB, secretKey: secret-of-proxy-b}}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: header-b}
spec: {header: {headers: {x-api-key: header-secret-of-b}}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: echo}
spec: {static: {hosts: [{addr: 127.0.0.1, port: ECHO_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: only-b}
spec: {static: {hosts: [{addr: 127.0.0.1, port: ECHO_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: lambda-a}
spec: {aws: {region: us-east-1, endpoint: "LAMBDA_URL", secretRef: {name: creds-a}}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: lambda-b}
spec: {aws: {region: us-east-1, endpoint: "LAMBDA_URL", secretRef: {name: creds-b}}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: vs-a}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /fn}]
      routeAction: {single: {upstream: {name: lambda-a}, destinationSpec: {aws: {logicalName: web}}}}
    - matchers: [{prefix: /limited}]
      routeAction: {single: {upstream: {name: echo}}}
      options: {ratelimit: {rateLimits: [{actions: [{requestHeaders: {headerName: x-client, descriptorKey: client}}]}]}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: echo}}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: vs-b}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /fn}]
      routeAction: {single: {upstream: {name: lambda-b}, destinationSpec: {aws: {logicalName: web}}}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: only-b}}}
      options: {headerManipulation: {requestHeadersToAdd: [{headerSecretRef: {name: header-b}}]}}
`

// adsFetch opens an ADS stream as node proxy, asks for clusters, listeners
// and routes, and returns everything it was sent, or the error the
// stream ended with.
func adsFetch(t *testing.T, addr string, cfg *tls.Config, proxy string) (string, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return "", err
	}
	node := &corev3.Node{Id: "probe", Cluster: proxy, Metadata: &structpb.Struct{Fields: map[string]*structpb.Value{"role": structpb.NewStringValue(proxy)}}}
	var out strings.Builder
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.RouteType} {
		if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: node, TypeUrl: typ}); err != nil {
			return "", err
		}
		resp, err := stream.Recv()
		if err != nil {
			return "", err
		}
		for _, r := range resp.GetResources() {
			// Serialised protobuf holds every string verbatim, nested
			// filter configs included.
			out.Write(r.GetValue())
			out.WriteString("\n")
		}
	}
	return out.String(), nil
}

func clientTLS(t *testing.T, dir, cert string) *tls.Config {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, cert+".crt"), filepath.Join(dir, cert+".key"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

// TestXDSMutualTLS checks that the xDS port serves only clients with a
// certificate, each only its own proxy's resources and secrets, and that
// a data plane runs over mutual TLS, to xDS and to the rate-limit service.
func TestXDSMutualTLS(t *testing.T) {
	certs := t.TempDir()
	if out, code := runGluonctl(t, "create", "certs", "--out", certs, "--proxy", "a", "--proxy", "b", "--server-name", "127.0.0.1"); code != 0 {
		t.Fatalf("gluonctl create certs: %s", out)
	}
	echo := startBackend(t, "echo", nil)
	lambda, lambdaURL := startLambda(t)
	lambda.AddCredentials("AKIDPROXYAAAA", "secret-of-proxy-a", "")
	lambda.AddCredentials("AKIDPROXYBBBB", "secret-of-proxy-b", "")
	ga, gb := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", strings.NewReplacer("GA_PORT", portOf(ga), "GB_PORT", portOf(gb), "ECHO_PORT", echo.port(), "LAMBDA_URL", lambdaURL).Replace(twoProxiesConfig))
	cp := &controlPlane{xds: freeAddr(t), admin: freeAddr(t), rls: freeAddr(t), configDir: dir, stateDir: t.TempDir(),
		extra: []string{"--xds-tls-cert", filepath.Join(certs, "server.crt"), "--xds-tls-key", filepath.Join(certs, "server.key"), "--xds-client-ca", filepath.Join(certs, "ca.crt"),
			"--ratelimit-tls-cert", filepath.Join(certs, "server.crt"), "--ratelimit-tls-key", filepath.Join(certs, "server.key"), "--ratelimit-client-ca", filepath.Join(certs, "ca.crt"),
			// Both proxies run on this host: proxy a's identity serves both.
			"--proxy-tls-cert", filepath.Join(certs, "proxy-a.crt"), "--proxy-tls-key", filepath.Join(certs, "proxy-a.key"), "--proxy-ca", filepath.Join(certs, "ca.crt")}}
	cp = startServeAt(t, cp, "none")
	waitFor(t, 10*time.Second, "Lambda functions discovered", func() bool {
		_, body := get(t, "http://"+cp.admin+"/statusz", nil)
		return !strings.Contains(body, "have been discovered")
	})

	if _, err := adsFetch(t, cp.xds, clientTLS(t, certs, ""), "a"); err == nil {
		t.Error("a client without a certificate was served")
	}
	if _, err := adsFetch(t, cp.xds, clientTLS(t, certs, "proxy-a"), "b"); err == nil || !strings.Contains(err.Error(), "PermissionDenied") {
		t.Errorf("proxy a's certificate asking for proxy b: %v, want PermissionDenied", err)
	}
	got, err := adsFetch(t, cp.xds, clientTLS(t, certs, "proxy-a"), "a")
	if err != nil {
		t.Fatalf("proxy a's certificate asking for proxy a: %v", err)
	}
	for _, want := range []string{"echo_default", "lambda-a_default", "AKIDPROXYAAAA", "secret-of-proxy-a"} {
		if !strings.Contains(got, want) {
			t.Errorf("proxy a's config lacks %q:\n%s", want, got)
		}
	}
	for _, leak := range []string{"only-b", "lambda-b", "AKIDPROXYBBBB", "secret-of-proxy-b", "header-secret-of-b"} {
		if strings.Contains(got, leak) {
			t.Errorf("proxy a was sent %q, which only proxy b uses", leak)
		}
	}

	startGluon(t, "dataplane", "--xds-addr", cp.xds, "--proxy", "a", "--node-id", "dp-a",
		"--xds-tls-cert", filepath.Join(certs, "proxy-a.crt"), "--xds-tls-key", filepath.Join(certs, "proxy-a.key"), "--xds-ca", filepath.Join(certs, "ca.crt"))
	waitFor(t, 10*time.Second, "data plane over mutual TLS serving", func() bool { return reaches(t, "http://"+ga+"/x", "any", "echo") })
	if code, body := get(t, "http://"+ga+"/fn", nil); code != 200 {
		t.Errorf("proxy a's Lambda route, signed with its credentials: %d %s", code, body)
	}
	// failureModeDeny: a rate-limit service the proxy cannot reach over
	// mutual TLS would answer 500s, not this sequence.
	var codes []int
	for range 3 {
		code, _ := get(t, "http://"+ga+"/limited", map[string]string{"x-client": "alice"})
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[200 200 429]" {
		t.Errorf("rate limit over mutual TLS: %v, want [200 200 429]", codes)
	}
	impostor := startGluon(t, "dataplane", "--xds-addr", cp.xds, "--proxy", "b", "--node-id", "dp-impostor",
		"--xds-tls-cert", filepath.Join(certs, "proxy-a.crt"), "--xds-tls-key", filepath.Join(certs, "proxy-a.key"), "--xds-ca", filepath.Join(certs, "ca.crt"))
	time.Sleep(time.Second)
	if code, _ := get(t, "http://"+gb+"/x", nil); code != 0 {
		t.Errorf("a data plane with proxy a's certificate serves proxy b (status %d)", code)
	}
	if !strings.Contains(impostor.Logs(), "PermissionDenied") {
		t.Errorf("the impostor's logs do not show it was refused:\n%s", impostor.Logs())
	}
}
