package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// webhookCert is the admission webhook's serving certificate, self-signed:
// the API server trusts it through the caBundle Gluon writes.
type webhookCert struct{ certPEM, keyPEM []byte }

// sharedWebhookCert returns the certificate kept in a Secret of Gluon's
// namespace, creating it on first use, so that every replica serves the
// same one and the caBundle is the same whoever writes it.
func sharedWebhookCert(ctx context.Context, c client.Client, namespace, name string, hosts []string) (webhookCert, error) {
	key := client.ObjectKey{Namespace: namespace, Name: name}
	for range 2 { // a second try after losing a creation race
		var s corev1.Secret
		err := c.Get(ctx, key, &s)
		if err == nil {
			return webhookCert{certPEM: s.Data[corev1.TLSCertKey], keyPEM: s.Data[corev1.TLSPrivateKeyKey]}, nil
		}
		if !apierrors.IsNotFound(err) {
			return webhookCert{}, fmt.Errorf("reading secret %s: %w", key, err)
		}
		cert, err := newSelfSignedCert(hosts)
		if err != nil {
			return webhookCert{}, err
		}
		s = corev1.Secret{Type: corev1.SecretTypeTLS, Data: map[string][]byte{
			corev1.TLSCertKey: cert.certPEM, corev1.TLSPrivateKeyKey: cert.keyPEM}}
		s.Name, s.Namespace = name, namespace
		err = c.Create(ctx, &s)
		if err == nil {
			return cert, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return webhookCert{}, fmt.Errorf("creating secret %s: %w", key, err)
		}
	}
	return webhookCert{}, fmt.Errorf("secret %s keeps changing", key)
}

// newSelfSignedCert makes a ten-year ECDSA certificate for hosts (DNS
// names or IPs) that is its own CA.
func newSelfSignedCert(hosts []string) (webhookCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return webhookCert{}, fmt.Errorf("generating webhook key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return webhookCert{}, fmt.Errorf("generating webhook serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gluon-webhook"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return webhookCert{}, fmt.Errorf("signing webhook certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return webhookCert{}, fmt.Errorf("encoding webhook key: %w", err)
	}
	return webhookCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}, nil
}
