package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// startTCPServer answers each line a connection sends with prefix and the
// line; with cfg it speaks TLS (terminating it itself).
func startTCPServer(t *testing.T, prefix string, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	return startTCPServerOn(t, ln, prefix).String()
}

// startTCPServerOn serves ln as startTCPServer does and returns its address.
func startTCPServerOn(t *testing.T, ln net.Listener, prefix string) *net.TCPAddr {
	t.Helper()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					io.WriteString(c, prefix+line)
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr)
}

// TestTCPGateway: through one tcp gateway, TLS clients reach the backend
// their SNI names, the TLS passed through (the certificate is the
// backend's own), and a plain TCP client reaches the echo server.
func TestTCPGateway(t *testing.T) {
	ca := newTestCA(t)
	serverTLS := func(name string) *tls.Config {
		s := newSite(t, ca, name)
		pair, err := tls.X509KeyPair(s.cert, s.key)
		if err != nil {
			t.Fatal(err)
		}
		return &tls.Config{Certificates: []tls.Certificate{pair}}
	}
	one := startTCPServer(t, "one: ", serverTLS("one.test"))
	split := startTCPServer(t, "split: ", serverTLS("x.split.test"))
	echo := startTCPServer(t, "", nil)
	gw := freeAddr(t)
	dir := t.TempDir()
	upstream := func(name, addr string) string {
		return "apiVersion: gluon.dev/v1\nkind: Upstream\nmetadata: {name: " + name + ", labels: {discovery.gluon.dev/function_discovery: disabled}}\n" +
			"spec: {static: {hosts: [{addr: 127.0.0.1, port: " + portOf(addr) + "}]}}\n---\n"
	}
	writeFile(t, dir, "config.yaml", upstream("one", one)+upstream("split", split)+upstream("echo", echo)+`apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: tcp}
spec:
  bindAddress: 127.0.0.1
  bindPort: `+portOf(gw)+`
  tcpGateway:
    tcpHosts:
    - name: one
      sslConfig: {sniDomains: [one.test]}
      destination: {single: {upstream: {name: one}}}
    - name: split
      sslConfig: {sniDomains: ["*.split.test"]}
      destination: {multi: {destinations: [{destination: {upstream: {name: split}}, weight: 1}]}}
    - name: plain
      destination: {single: {upstream: {name: echo}}}
`)
	startServe(t, dir, t.TempDir(), "embedded")
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	exchange := func(sni string) (string, error) {
		conn, err := net.DialTimeout("tcp", gw, 2*time.Second)
		if err != nil {
			return "", err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
		var c net.Conn = conn
		if sni != "" {
			tc := tls.Client(conn, &tls.Config{ServerName: sni, RootCAs: pool}) // verifies the backend's own certificate
			if err := tc.Handshake(); err != nil {
				return "", err
			}
			c = tc
		}
		if _, err := io.WriteString(c, "ping\n"); err != nil {
			return "", err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		return strings.TrimSpace(line), err
	}
	waitFor(t, 10*time.Second, "the tcp gateway serving", func() bool { got, _ := exchange(""); return got == "ping" })
	for sni, want := range map[string]string{"one.test": "one: ping", "x.split.test": "split: ping", "": "ping"} {
		for i := range 5 {
			if got, err := exchange(sni); got != want || err != nil {
				t.Errorf("SNI %q, connection %d: got %q (%v), want %q", sni, i, got, err, want)
			}
		}
	}
	if _, err := exchange("unknown.test"); err == nil {
		t.Error("an SNI no host names completed a TLS handshake through the plain host")
	}
}
