package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/gluon-gateway/gluon/xds/server"
)

// certValidity is how long the certificates `create certs` issues last.
const certValidity = 365 * 24 * time.Hour

// createCertsCommand issues what mutual TLS between the control plane and
// its proxies needs: a CA, a server certificate for the xDS, rate-limit and
// admin endpoints, and one client certificate per proxy whose URI SAN names
// the proxy, so that the xDS server gives each client its own proxy only.
func createCertsCommand(o *options) *cobra.Command {
	var dir, trustDomain, caCert, caKey string
	var serverNames, proxies []string
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Issue a CA, a control-plane server certificate and per-proxy client certificates for mutual TLS",
		RunE: func(*cobra.Command, []string) error {
			if len(proxies) == 0 {
				return errors.New("--proxy: name at least one proxy")
			}
			ca, err := loadOrCreateCA(dir, caCert, caKey)
			if err != nil {
				return err
			}
			if err := ca.issue(dir, "server", serverTemplate(serverNames)); err != nil {
				return err
			}
			for _, p := range proxies {
				tmpl := leafTemplate("proxy " + p)
				tmpl.URIs = append(tmpl.URIs, server.ProxyURI(trustDomain, p))
				tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
				if err := ca.issue(dir, "proxy-"+p, tmpl); err != nil {
					return err
				}
			}
			fmt.Fprintf(o.out, "wrote ca.crt, server.crt/.key and proxy-<name>.crt/.key for %v to %s\n", proxies, dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "out", ".", "directory to write the PEM files to")
	f.StringSliceVar(&serverNames, "server-name", []string{"localhost", "127.0.0.1"}, "DNS names and IPs of the control plane (repeatable)")
	f.StringSliceVar(&proxies, "proxy", nil, "a proxy to issue a client certificate for (repeatable)")
	f.StringVar(&trustDomain, "trust-domain", "gluon.local", "the SPIFFE trust domain of the proxies' URI SANs")
	f.StringVar(&caCert, "ca-cert", "", "issue with this existing CA certificate (default: a new CA in --out)")
	f.StringVar(&caKey, "ca-key", "", "the key of --ca-cert")
	return cmd
}

type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func loadOrCreateCA(dir, certFile, keyFile string) (*issuer, error) {
	if certFile != "" || keyFile != "" {
		return loadCA(certFile, keyFile)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := leafTemplate("gluon CA")
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("creating the CA: %w", err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &issuer{cert: cert, key: key}
	return ca, writePair(dir, "ca", der, key)
}

func loadCA(certFile, keyFile string) (*issuer, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("--ca-cert and --ca-key must be PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("--ca-cert: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("--ca-key (want an EC key): %w", err)
	}
	return &issuer{cert: cert, key: key}, nil
}

func serverTemplate(names []string) *x509.Certificate {
	tmpl := leafTemplate("gluon control plane")
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	return tmpl
}

func leafTemplate(cn string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"gluon"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

func (ca *issuer) issue(dir, name string, tmpl *x509.Certificate) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return fmt.Errorf("issuing %s: %w", name, err)
	}
	return writePair(dir, name, der, key)
}

// writePair writes NAME.crt and NAME.key; keys are readable by their owner only.
func writePair(dir, name string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}
