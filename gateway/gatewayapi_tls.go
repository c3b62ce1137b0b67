package gateway

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// resolveCertificates checks the certificateRefs of a Gateway's HTTPS
// listeners: a Secret of the kubernetes.io/tls kind (a tls Secret to
// Gluon), in the Gateway's namespace or one whose ReferenceGrant allows
// it, with a certificate valid now. A listener whose reference fails is
// not served, and says why in ResolvedRefs.
func (c *gatewayAPI) resolveCertificates(g *servedGateway, secrets map[types.NamespacedName]*api.Secret) {
	for _, l := range g.listeners {
		if !l.https || l.unsupported {
			continue
		}
		refs := l.spec.TLS.CertificateRefs
		if len(refs) == 0 {
			l.certReason, l.certProblem = gwv1.ListenerReasonInvalidCertificateRef, "an HTTPS listener needs a certificateRef"
			continue
		}
		ref := refs[0] // Gluon serves one certificate per listener
		key := types.NamespacedName{Namespace: g.key.Namespace, Name: string(ref.Name)}
		if ref.Namespace != nil {
			key.Namespace = string(*ref.Namespace)
		}
		switch {
		case ref.Group != nil && *ref.Group != "" || ref.Kind != nil && *ref.Kind != "Secret":
			l.certReason, l.certProblem = gwv1.ListenerReasonInvalidCertificateRef, "certificateRefs name Secrets only"
		case !c.permitted("Gateway", g.key.Namespace, "", "Secret", key):
			l.certReason, l.certProblem = gwv1.ListenerReasonRefNotPermitted, fmt.Sprintf("Secret %s: no ReferenceGrant in %s allows it", key, key.Namespace)
		case secrets[key] == nil || secrets[key].Spec.TLS == nil:
			l.certReason, l.certProblem = gwv1.ListenerReasonInvalidCertificateRef, fmt.Sprintf("Secret %s is missing or not a kubernetes.io/tls Secret", key)
		default:
			if err := servable(secrets[key].Spec.TLS.CertChain, time.Now()); err != nil {
				l.certReason, l.certProblem = gwv1.ListenerReasonInvalidCertificateRef, fmt.Sprintf("Secret %s: %v", key, err)
				continue
			}
			l.cert = &api.ResourceRef{Name: key.Name, Namespace: key.Namespace}
		}
	}
}

// sslConfig is what a generated virtual service for host on an HTTPS
// port takes from the listener that owns it: its certificate, chosen by
// host as SNI (any name for "*"). A ca.crt in the Secret does not make
// client certificates required: the Gateway API asks for that elsewhere
// (frontendValidation).
func sslConfig(owner *servedListener, host string) *api.SSLConfig {
	if owner == nil || owner.cert == nil {
		return nil
	}
	oneWay := true
	ssl := &api.SSLConfig{SecretRef: owner.cert, OneWayTLS: &oneWay}
	if host != "*" {
		ssl.SniDomains = []string{host}
	}
	return ssl
}

// httpsPort reports whether a port's served listeners are HTTPS.
func (g *servedGateway) httpsPort(port gwv1.PortNumber) bool {
	l := g.servedOn(port)
	return l != nil && l.https
}

// servedOn is a listener served on port: they all have one protocol (a
// port mixing protocols serves none).
func (g *servedGateway) servedOn(port gwv1.PortNumber) *servedListener {
	for _, l := range g.listeners {
		if l.serves() && l.spec.Port == port {
			return l
		}
	}
	return nil
}
