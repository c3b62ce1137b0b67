package e2e

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConsulOverTLS: upstream discovery reaches Consul's HTTPS port,
// verifying it with the CA --consul-ca-file names; without that CA it
// refuses the agent's certificate and says why.
func TestConsulOverTLS(t *testing.T) {
	ca := newTestCA(t)
	_, key, certPEM := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "consul"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca)
	dir := t.TempDir()
	for name, data := range map[string][]byte{"ca.pem": ca.pem, "consul.pem": certPEM, "consul.key": keyPEM(t, key)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	https := freeAddr(t)
	_, c := startConsulToken(t, "", "-hcl", `ports { https = `+portOf(https)+` }
tls { defaults {
  ca_file = "`+filepath.Join(dir, "ca.pem")+`"
  cert_file = "`+filepath.Join(dir, "consul.pem")+`"
  key_file = "`+filepath.Join(dir, "consul.key")+`"
} }`)
	web := startBackend(t, "web", nil)
	registerInstance(t, c, "web", "web-1", web.addr)

	gw, _ := startGateway(t, routeAllTo("consul-web"), "--consul-addr", "https://"+https, "--consul-ca-file", filepath.Join(dir, "ca.pem"))
	waitFor(t, 15*time.Second, "the service discovered over HTTPS served", func() bool {
		code, body := get(t, "http://"+gw+"/x", nil)
		return code == 200 && strings.HasPrefix(body, "web ")
	})

	untrusting, cp := startGateway(t, routeAllTo("consul-web"), "--consul-addr", "https://"+https)
	waitFor(t, 15*time.Second, "the untrusted agent's certificate refused in the log", func() bool {
		return strings.Contains(cp.Logs(), "certificate signed by unknown authority")
	})
	// The gateway serves, and the route says its upstream was never found.
	var code int
	var body string
	waitFor(t, 15*time.Second, "the gateway without the CA answering", func() bool {
		code, body = get(t, "http://"+untrusting+"/x", nil)
		return code != 0
	})
	if code == 200 || !strings.Contains(body, "consul-web not found") {
		t.Fatalf("through an agent whose certificate no CA vouches for: %d %q", code, body)
	}
}
