package gateway

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// httpsVirtualHosts are the virtual hosts an ssl gateway serves, each
// labelled with its filter chain, and those chains. A virtual service whose
// certificate cannot be served, or whose server names another one has, is
// rejected on this gateway alone.
func (t *translation) httpsVirtualHosts(g *api.Gateway, vss []*api.VirtualService, vhs []*ir.VirtualHost) ([]*ir.VirtualHost, []*ir.TLSChain) {
	var out []*ir.VirtualHost
	var chains []*ir.TLSChain
	names := map[string]*api.VirtualService{}
	for i, vs := range vss {
		chain, err := t.tlsChain(vs, vhs[i])
		if err == nil {
			err = claimServerNames(names, vs, chain.ServerNames)
		}
		if err != nil {
			t.reports.Reject(api.KeyOf(vs), api.Problem{Code: problemCode(err), Path: "spec.sslConfig",
				Message: fmt.Sprintf("not served on Gateway %s/%s: %v", g.Namespace, g.Name, err)})
			continue
		}
		vhs[i].TLSChain = chain.Name
		out, chains = append(out, vhs[i]), append(chains, chain)
	}
	return out, chains
}

// errSecretNotFound and errServerNameTaken mark a chain's errors that are
// not the certificate's.
var (
	errSecretNotFound  = errors.New("secret not found")
	errServerNameTaken = errors.New("server name taken")
)

func problemCode(err error) api.Code {
	switch {
	case errors.Is(err, errSecretNotFound):
		return api.SecretNotFound
	case errors.Is(err, errServerNameTaken):
		return api.DomainConflict
	}
	return api.InvalidCertificate
}

// claimServerNames gives the names to vs, unless another virtual service of
// the gateway has one of them (or both want the default chain).
func claimServerNames(owners map[string]*api.VirtualService, vs *api.VirtualService, names []string) error {
	keys := names
	if len(keys) == 0 {
		keys = []string{""} // the default chain
	}
	for _, n := range keys {
		if o, ok := owners[n]; ok {
			if n == "" {
				n = "(any, the default chain)"
			}
			return fmt.Errorf("%w: %s is already served by VirtualService %s/%s", errServerNameTaken, n, o.Namespace, o.Name)
		}
	}
	for _, n := range keys {
		owners[n] = vs
	}
	return nil
}

// tlsChain is the filter chain of an HTTPS virtual service.
func (t *translation) tlsChain(vs *api.VirtualService, vh *ir.VirtualHost) (*ir.TLSChain, error) {
	ssl := vs.Spec.SSLConfig
	c := &ir.TLSChain{Name: vh.Name, ServerNames: ssl.SniDomains, VerifySANs: ssl.VerifySubjectAltName, ALPN: ssl.AlpnProtocols}
	if len(c.ServerNames) == 0 {
		c.ServerNames = slices.DeleteFunc(slices.Clone(vh.Domains), func(d string) bool { return d == "*" })
	}
	if p := ssl.Parameters; p != nil {
		c.MinVersion, c.MaxVersion, c.CipherSuites = p.MinimumProtocolVersion, p.MaximumProtocolVersion, p.CipherSuites
	}
	hasCA := false
	if f := ssl.SSLFiles; f != nil {
		c.Files = &ir.TLSFiles{CertFile: f.TLSCert, KeyFile: f.TLSKey, CAFile: f.RootCA}
		hasCA = f.RootCA != ""
	} else {
		ref := ssl.SecretRef.Ref(vs.Namespace)
		s, ok := t.secrets[ref]
		if !ok || s.Spec.TLS == nil {
			return nil, fmt.Errorf("tls secret %s: %w", ref, errSecretNotFound)
		}
		if err := servable(s.Spec.TLS.CertChain, time.Now()); err != nil {
			return nil, fmt.Errorf("tls secret %s: %w", ref, err)
		}
		c.CertificateSecret = ref.String()
		t.tlsSecrets[c.CertificateSecret] = ir.Secret{Name: c.CertificateSecret,
			Certificate: &ir.KeyPair{CertChain: s.Spec.TLS.CertChain, PrivateKey: s.Spec.TLS.PrivateKey}}
		if s.Spec.TLS.RootCA != "" {
			hasCA, c.CASecret = true, ref.String()+"#ca"
			t.tlsSecrets[c.CASecret] = ir.Secret{Name: c.CASecret, TrustedCA: s.Spec.TLS.RootCA}
		}
	}
	c.RequireClientCert = hasCA && (ssl.OneWayTLS == nil || !*ssl.OneWayTLS)
	return c, nil
}

// servable checks the leaf certificate is valid now: an expired one would
// fail every handshake.
func servable(chain string, now time.Time) error {
	block, _ := pem.Decode([]byte(chain))
	if block == nil {
		return errors.New("no PEM certificate")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("certificate does not parse: %w", err)
	}
	switch {
	case now.After(leaf.NotAfter):
		return fmt.Errorf("certificate expired on %s", leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		return fmt.Errorf("certificate is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// proxySecrets are the secrets the proxy's listeners name, sorted.
func (t *translation) proxySecrets(listeners []*ir.Listener) []ir.Secret {
	used := map[string]bool{}
	for _, l := range listeners {
		for _, c := range l.TLS {
			used[c.CertificateSecret], used[c.CASecret] = true, true
		}
	}
	var out []ir.Secret
	for _, name := range sortedNames(used) {
		if s, ok := t.tlsSecrets[name]; ok {
			out = append(out, s)
		}
	}
	return out
}
