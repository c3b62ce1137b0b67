package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// httpsSite is a TLS secret's worth of certificate for one server name.
type httpsSite struct {
	name      string
	cert, key []byte
	serial    string
}

func newSite(t *testing.T, ca *testCA, name string) httpsSite {
	t.Helper()
	cert, key, pemBytes := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca)
	return httpsSite{name: name, cert: pemBytes, key: keyPEM(t, key), serial: cert.SerialNumber.String()}
}

// yamlBlock indents PEM for a YAML block scalar.
func yamlBlock(pemBytes []byte, indent int) string {
	pad := strings.Repeat(" ", indent)
	return pad + strings.ReplaceAll(strings.TrimSpace(string(pemBytes)), "\n", "\n"+pad)
}

func tlsSecretYAML(name string, s httpsSite, rootCA []byte) string {
	out := `apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: ` + name + `}
spec:
  tls:
    certChain: |
` + yamlBlock(s.cert, 6) + `
    privateKey: |
` + yamlBlock(s.key, 6) + "\n"
	if rootCA != nil {
		out += "    rootCa: |\n" + yamlBlock(rootCA, 6) + "\n"
	}
	return out
}

// httpsConfig is a gateway serving shop.test (its certificate) and
// api.test (another, requiring client certificates of clientCA) over TLS,
// a virtual service whose Secret is missing, and a plain gateway on plain
// redirecting shop.test to HTTPS.
func httpsConfig(gw, plain string, backendPort string, shop, api httpsSite, clientCA []byte) string {
	vs := func(name, domain, secret string) string {
		return `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: ` + name + `}
spec:
  sslConfig: {secretRef: {name: ` + secret + `}}
  virtualHost:
    domains: [` + domain + `]
    routes:
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
---
`
	}
	return `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: https}
spec: {bindAddress: 127.0.0.1, bindPort: ` + portOf(gw) + `, ssl: true}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: a, labels: {discovery.gluon.dev/function_discovery: disabled}}
spec: {static: {hosts: [{addr: 127.0.0.1, port: ` + backendPort + `}]}}
---
` + tlsSecretYAML("shop-tls", shop, nil) + "---\n" + tlsSecretYAML("api-tls", api, clientCA) + "---\n" +
		vs("shop", "shop.test", "shop-tls") + vs("api", "api.test", "api-tls") + vs("broken", "broken.test", "nowhere") + `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: plain}
spec: {bindAddress: 127.0.0.1, bindPort: ` + portOf(plain) + `}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: to-https}
spec:
  virtualHost:
    domains: [shop.test]
    routes:
    - matchers: [{prefix: /}]
      redirectAction: {httpsRedirect: true}
`
}

// httpsClient reaches gw whatever host a URL names (as curl --resolve),
// trusting ca, speaking the protocols given by ALPN.
func httpsClient(gw string, ca *testCA, serverName string, protos []string, cert *tls.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	cfg := &tls.Config{RootCAs: pool, ServerName: serverName, NextProtos: protos}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: len(protos) > 0 && protos[0] == "h2", DisableKeepAlives: cert == nil && len(protos) == 0,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, gw)
		}}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestHTTPS: two virtual services with their own certificates chosen by
// SNI, over HTTP/1.1 and HTTP/2; one requires client certificates; a
// certificate rotated under load; a WebSocket over wss://; a virtual
// service whose Secret is missing is rejected alone.
func TestHTTPS(t *testing.T) {
	backend := startBackend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			typ, msg, err := c.Read(r.Context())
			if err == nil {
				_ = c.Write(r.Context(), typ, append([]byte("echo: "), msg...))
			}
			return
		}
		fmt.Fprintf(w, "%s %s", r.Header.Get("X-Forwarded-Proto"), r.Host)
	})
	ca, clientCA := newTestCA(t), newTestCA(t)
	shop, api := newSite(t, ca, "shop.test"), newSite(t, ca, "api.test")
	gw, plain := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", httpsConfig(gw, plain, backend.port(), shop, api, clientCA.pem))
	cp := startServe(t, dir, t.TempDir(), "embedded")
	get := func(c *http.Client) (*http.Response, string, error) {
		host := c.Transport.(*http.Transport).TLSClientConfig.ServerName
		resp, err := c.Get("https://" + host + portSuffix(gw) + "/x")
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, string(b), err
	}
	waitFor(t, 10*time.Second, "https served", func() bool {
		_, _, err := get(httpsClient(gw, ca, "shop.test", []string{"http/1.1"}, nil))
		return err == nil
	})

	for _, c := range []struct {
		site  httpsSite
		proto string
		alpn  []string
	}{{shop, "HTTP/1.1", []string{"http/1.1"}}, {shop, "HTTP/2.0", []string{"h2", "http/1.1"}}} {
		resp, body, err := get(httpsClient(gw, ca, c.site.name, c.alpn, nil))
		if err != nil {
			t.Fatalf("%s over %s: %v", c.site.name, c.proto, err)
		}
		if resp.Proto != c.proto || body != "https "+c.site.name || resp.TLS.PeerCertificates[0].SerialNumber.String() != c.site.serial {
			t.Errorf("%s over %s: got %s %q from certificate %s", c.site.name, c.proto, resp.Proto, body, resp.TLS.PeerCertificates[0].Subject.CommonName)
		}
	}

	// And as curl does it, by its own protocol flags.
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{"--http1.1": "1.1", "--http2": "2"} {
		out, err := exec.Command("curl", "-sS", flag, "--cacert", caFile, "--resolve", "shop.test"+portSuffix(gw)+":127.0.0.1",
			"-w", " %{http_version} %{ssl_verify_result}", "https://shop.test"+portSuffix(gw)+"/x").CombinedOutput()
		if err != nil || string(out) != "https shop.test "+want+" 0" {
			t.Errorf("curl %s: %q (%v)", flag, out, err)
		}
	}

	// api.test wants a client certificate signed by its CA.
	if _, _, err := get(httpsClient(gw, ca, "api.test", nil, nil)); err == nil {
		t.Error("api.test served a client without a certificate")
	}
	_, clientKey, clientPEM := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, clientCA)
	pair, err := tls.X509KeyPair(clientPEM, keyPEM(t, clientKey))
	if err != nil {
		t.Fatal(err)
	}
	resp, body, err := get(httpsClient(gw, ca, "api.test", []string{"http/1.1"}, &pair))
	if err != nil || resp.TLS.PeerCertificates[0].SerialNumber.String() != api.serial || body != "https api.test" {
		t.Errorf("api.test with a client certificate: %v %q", err, body)
	}

	// Plain HTTP is sent to HTTPS.
	req, _ := http.NewRequest(http.MethodGet, "http://"+plain+"/x?y=1", nil)
	req.Host = "shop.test"
	redirect, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	redirect.Body.Close()
	if loc := redirect.Header.Get("Location"); redirect.StatusCode != http.StatusMovedPermanently || !strings.HasPrefix(loc, "https://shop.test") || !strings.HasSuffix(loc, "/x?y=1") {
		t.Errorf("plain HTTP got %d to %q, want a 301 to https://shop.test…/x?y=1", redirect.StatusCode, loc)
	}

	if state, _ := statusOf(t, cp, "VirtualService", "broken"); state != "Rejected" {
		t.Errorf("a virtual service whose Secret is missing is %s", state)
	}

	// A second connection resumes the first one's session.
	resumer := httpsClient(gw, ca, "shop.test", []string{"http/1.1"}, nil)
	resumer.Transport.(*http.Transport).TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	resumer.Transport.(*http.Transport).DisableKeepAlives = true
	for i := range 2 {
		resp, _, err := get(resumer)
		if err != nil || resp.TLS.DidResume != (i == 1) {
			t.Errorf("connection %d: resumed %v (%v)", i+1, resp != nil && resp.TLS.DidResume, err)
		}
	}

	// The private keys show nowhere.
	keyLine := strings.Split(string(shop.key), "\n")[2]
	_, snapshot := getURL(t, "http://"+cp.admin+"/snapshot")
	_, statusz := getURL(t, "http://"+cp.admin+"/statusz")
	for where, text := range map[string]string{"/snapshot": snapshot, "/statusz": statusz, "logs": cp.Logs(),
		"gluonctl get secrets": mustGluonctl(t, cp, "get", "secrets"), "gluonctl get vs": mustGluonctl(t, cp, "get", "virtualservices")} {
		if strings.Contains(text, keyLine) {
			t.Errorf("%s shows a private key", where)
		}
	}
	if !strings.Contains(snapshot, "default/shop-tls") {
		t.Error("/snapshot does not name the SDS secrets")
	}

	t.Run("wss", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, "wss://shop.test"+portSuffix(gw)+"/chat", &websocket.DialOptions{HTTPClient: httpsClient(gw, ca, "shop.test", []string{"http/1.1"}, nil)})
		if err != nil {
			t.Fatalf("wss through the gateway: %v", err)
		}
		defer c.CloseNow()
		if err := c.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.Read(ctx); err != nil || string(got) != "echo: hi" {
			t.Fatalf("got %q (%v)", got, err)
		}
	})

	t.Run("rotation under load", func(t *testing.T) {
		rotated := newSite(t, ca, "shop.test")
		var ok, failed atomic.Int64
		var firstErr atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				c := httpsClient(gw, ca, "shop.test", nil, nil) // a new connection, so a handshake, per request
				for i := 0; i < 500; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if _, _, err := get(c); err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					ok.Add(1)
				}
			})
		}
		time.Sleep(time.Second)
		writeFile(t, dir, "config.yaml", httpsConfig(gw, plain, backend.port(), rotated, api, clientCA.pem))
		took := waitFor(t, 10*time.Second, "new handshakes to see the new certificate", func() bool {
			resp, _, err := get(httpsClient(gw, ca, "shop.test", nil, nil))
			return err == nil && resp.TLS.PeerCertificates[0].SerialNumber.String() == rotated.serial
		})
		time.Sleep(time.Second)
		close(stop)
		wg.Wait()
		t.Logf("%d requests, %d failed; the new certificate served %s after the Secret changed", ok.Load(), failed.Load(), took)
		if failed.Load() != 0 {
			t.Errorf("%d requests failed during the rotation, first: %v", failed.Load(), firstErr.Load())
		}
	})
}

// getURL GETs url with a plain client.
func getURL(t *testing.T, url string) (int, string) {
	t.Helper()
	return get(t, url, nil)
}

// portSuffix is ":port" of addr: the Host a client sends to it.
func portSuffix(addr string) string { return ":" + portOf(addr) }

// TestListenerChangesKind: a gateway that turns HTTPS on its port serves
// HTTPS there (the data plane binds the address again for the new kind),
// and back.
func TestListenerChangesKind(t *testing.T) {
	backend := startBackend(t, "a", nil)
	ca := newTestCA(t)
	site := newSite(t, ca, "shop.test")
	gw := freeAddr(t)
	config := func(ssl bool) string {
		gateway, vsSSL := "", ""
		if ssl {
			gateway, vsSSL = ", ssl: true", "  sslConfig: {secretRef: {name: shop-tls}}\n"
		}
		return `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: web}
spec: {bindAddress: 127.0.0.1, bindPort: ` + portOf(gw) + gateway + `}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: a, labels: {discovery.gluon.dev/function_discovery: disabled}}
spec: {static: {hosts: [{addr: 127.0.0.1, port: ` + backend.port() + `}]}}
---
` + tlsSecretYAML("shop-tls", site, nil) + `---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: shop}
spec:
` + vsSSL + `  virtualHost:
    domains: [shop.test]
    routes:
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
`
	}
	dir := t.TempDir()
	writeFile(t, dir, "config.yaml", config(false))
	startServe(t, dir, t.TempDir(), "embedded")
	plain := func() bool {
		code, _ := get(t, "http://"+gw+"/x", map[string]string{"Host": "shop.test"})
		return code == 200
	}
	secure := func() bool {
		resp, err := httpsClient(gw, ca, "shop.test", []string{"http/1.1"}, nil).Get("https://shop.test" + portSuffix(gw) + "/x")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	waitFor(t, 10*time.Second, "plain HTTP served", plain)
	writeFile(t, dir, "config.yaml", config(true))
	waitFor(t, 10*time.Second, "HTTPS served on the same port", secure)
	writeFile(t, dir, "config.yaml", config(false))
	waitFor(t, 10*time.Second, "plain HTTP served again", plain)
}
