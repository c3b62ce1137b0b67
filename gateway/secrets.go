package gateway

import (
	"fmt"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

func secretsByRef(secrets []*api.Secret) map[api.ResourceRef]*api.Secret {
	out := make(map[api.ResourceRef]*api.Secret, len(secrets))
	for _, s := range secrets {
		out[api.ResourceRef{Name: s.Name, Namespace: s.Namespace}] = s
	}
	return out
}

// secretHeaders are the headers of a header secret.
func (t *translation) secretHeaders(ref api.ResourceRef) (map[string]string, error) {
	s, ok := t.secrets[ref]
	if !ok || s.Spec.Header == nil {
		return nil, fmt.Errorf("header secret %s not found", ref)
	}
	return s.Spec.Header.Headers, nil
}

// clientCertificate adds the certificate (and CAs) of the upstream's
// sslConfig.secretRef to its cluster's TLS. Without the secret the upstream
// is still served, without a client certificate, and warned about.
func (t *translation) clientCertificate(u *api.Upstream, c *ir.Cluster) {
	ssl := u.Spec.SSLConfig
	if ssl == nil || ssl.SecretRef == nil {
		return
	}
	ref := ssl.SecretRef.Ref(u.Namespace)
	s, ok := t.secrets[ref]
	if !ok || s.Spec.TLS == nil {
		t.reports.Warn(api.KeyOf(u), api.Problem{Code: api.SecretNotFound, Path: "spec.sslConfig.secretRef",
			Message: fmt.Sprintf("tls secret %s not found; connecting without a client certificate", ref)})
		return
	}
	if c.TLS == nil {
		c.TLS = &ir.TLS{}
	}
	c.TLS.ClientCert = &ir.KeyPair{CertChain: s.Spec.TLS.CertChain, PrivateKey: s.Spec.TLS.PrivateKey}
	c.TLS.RootCA = s.Spec.TLS.RootCA
}
