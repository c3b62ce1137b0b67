package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA issues certificates for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	ca := &testCA{}
	ca.cert, ca.key, ca.pem = issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil)
	return ca
}

// issue signs tmpl with ca (self-signed without one) and returns the
// certificate, its key and the certificate's PEM.
func issue(t *testing.T, tmpl *x509.Certificate, ca *testCA) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// startMTLSBackend serves TLS for 127.0.0.1 and requires a client
// certificate signed by ca; it answers with the client's name and the
// x-api-key header it got.
func startMTLSBackend(t *testing.T, ca *testCA) string {
	t.Helper()
	_, key, certPEM := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "backend"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca)
	pair, err := tls.X509KeyPair(certPEM, keyPEM(t, key))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	lis, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "client=%s x-api-key=%s", r.TLS.PeerCertificates[0].Subject.CommonName, r.Header.Get("x-api-key"))
	})}
	go srv.Serve(lis)
	t.Cleanup(func() { srv.Close() })
	return lis.Addr().String()
}

// TestSecretsForMTLSAndHeaders creates a tls and a header secret with
// gluonctl; an upstream presents the tls secret's certificate to a backend
// that requires one, and a route adds the header secret's header.
func TestSecretsForMTLSAndHeaders(t *testing.T) {
	ca := newTestCA(t)
	backend := startMTLSBackend(t, ca)
	_, clientKey, clientPEM := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "gluon"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca)
	files := t.TempDir()
	for name, data := range map[string][]byte{"client.pem": clientPEM, "client.key": keyPEM(t, clientKey), "ca.pem": ca.pem, "api-key": []byte("s3cret\n")} {
		if err := os.WriteFile(filepath.Join(files, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", "apiVersion: gluon.dev/v1\nkind: Gateway\nmetadata: {name: http}\nspec: {bindAddress: 127.0.0.1, bindPort: "+portOf(gw)+"}\n")
	cp := startServe(t, dir, t.TempDir(), "embedded")

	mustGluonctl(t, cp, "create", "secret", "tls", "client-cert", "--certchain", filepath.Join(files, "client.pem"),
		"--privatekey", filepath.Join(files, "client.key"), "--rootca", filepath.Join(files, "ca.pem"))
	mustGluonctl(t, cp, "create", "secret", "header", "api-key", "--header-file", "x-api-key="+filepath.Join(files, "api-key"))
	mustGluonctl(t, cp, "create", "upstream", "static", "secure", "--static-hosts", backend, "--ssl-secret-name", "client-cert")
	writeFile(t, dir, "routes.yaml", `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: secure}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: secure}}}
      options:
        headerManipulation:
          requestHeadersToAdd: [{headerSecretRef: {name: api-key}}]
`)
	waitFor(t, 10*time.Second, "the mTLS upstream answers with the secret header", func() bool {
		code, body := get(t, "http://"+gw+"/", nil)
		return code == 200 && body == "client=gluon x-api-key=s3cret"
	})

	secrets := mustGluonctl(t, cp, "get", "secrets")
	for _, want := range []string{"| client-cert | tls ", "| api-key     | header "} {
		if !strings.Contains(secrets, want) {
			t.Errorf("get secrets lacks %q:\n%s", want, secrets)
		}
	}
	dry := mustGluonctl(t, cp, "create", "secret", "tls", "again", "--certchain", filepath.Join(files, "client.pem"),
		"--privatekey", filepath.Join(files, "client.key"), "--dry-run")
	if strings.Contains(dry, "PRIVATE KEY") || !strings.Contains(dry, "[redacted]") {
		t.Fatalf("a dry run showed the private key:\n%s", dry)
	}
	_, snapshot := get(t, "http://"+cp.admin+"/snapshot", nil)
	if strings.Contains(snapshot, "PRIVATE KEY") {
		t.Fatal("/snapshot shows the client certificate's private key")
	}
	served := mustGluonctl(t, cp, "proxy", "served-config")
	for where, text := range map[string]string{"/snapshot": snapshot, "gluonctl proxy served-config": served} {
		if strings.Contains(text, "s3cret") {
			t.Errorf("%s shows the header secret's value", where)
		}
		if !strings.Contains(text, "x-api-key") {
			t.Errorf("%s lost the header secret's name:\n%s", where, text)
		}
	}
}
