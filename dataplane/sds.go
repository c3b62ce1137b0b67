package dataplane

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// sdsSecret is a secret received over SDS. TLS handshakes read it as they
// start, so an update rotates a certificate for new connections while the
// open ones go on.
type sdsSecret struct {
	cert atomic.Pointer[tls.Certificate]
	ca   atomic.Pointer[x509.CertPool]
}

// applySecrets stores the secrets of an SDS update, each into the secret
// of that name TLS configs already read from.
func (s *state) applySecrets(resources []*anypb.Any) error {
	type parsed struct {
		cert *tls.Certificate
		ca   *x509.CertPool
	}
	updates := make(map[string]parsed, len(resources))
	for _, a := range resources {
		sec := &tlsv3.Secret{}
		if err := decodeAny(a, sec); err != nil {
			return err
		}
		var p parsed
		var err error
		switch t := sec.GetType().(type) {
		case *tlsv3.Secret_TlsCertificate:
			p.cert, err = compileTLSCertificate(t.TlsCertificate)
		case *tlsv3.Secret_ValidationContext:
			p.ca, err = compileTrustedCA(t.ValidationContext)
		default:
			err = errors.New("only tls_certificate and validation_context secrets are supported")
		}
		if err != nil {
			return fmt.Errorf("secret %q: %w", sec.GetName(), err)
		}
		updates[sec.GetName()] = p
	}
	wanted := s.sdsNames()
	for name, p := range updates {
		if !slices.Contains(wanted, name) {
			continue
		}
		sec := s.secrets[name]
		if sec == nil {
			sec = &sdsSecret{}
			s.secrets[name] = sec
		}
		sec.cert.Store(p.cert)
		sec.ca.Store(p.ca)
	}
	return nil
}

func compileTLSCertificate(c *tlsv3.TlsCertificate) (*tls.Certificate, error) {
	if err := onlyFields(c, "certificate_chain", "private_key"); err != nil {
		return nil, err
	}
	chain, err := dataSourceBytes(c.GetCertificateChain())
	if err != nil {
		return nil, fmt.Errorf("certificate_chain: %w", err)
	}
	key, err := dataSourceBytes(c.GetPrivateKey())
	if err != nil {
		return nil, fmt.Errorf("private_key: %w", err)
	}
	pair, err := tls.X509KeyPair(chain, key)
	if err != nil {
		return nil, errors.New("certificate_chain and private_key are not a certificate and its key") // never the key itself
	}
	return &pair, nil
}

func compileTrustedCA(vc *tlsv3.CertificateValidationContext) (*x509.CertPool, error) {
	if err := onlyFields(vc, "trusted_ca"); err != nil {
		return nil, err
	}
	return caPool(vc.GetTrustedCa())
}

func caPool(ds *core.DataSource) (*x509.CertPool, error) {
	pem, err := dataSourceBytes(ds)
	if err != nil {
		return nil, fmt.Errorf("trusted_ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("trusted_ca: no PEM certificates found")
	}
	return pool, nil
}

// sdsNames are the secrets the accepted listeners name, sorted.
func (s *state) sdsNames() []string {
	var names []string
	for _, lc := range s.listeners {
		for _, c := range lc.chains {
			for _, n := range []string{c.tls.certSecret, c.tls.caSecret} {
				if n != "" && !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	slices.Sort(names)
	return names
}

// secretsReady reports whether every secret the listeners name arrived.
func (s *state) secretsReady() bool {
	for _, n := range s.sdsNames() {
		if sec := s.secrets[n]; sec == nil || (sec.cert.Load() == nil && sec.ca.Load() == nil) {
			return false
		}
	}
	return true
}
