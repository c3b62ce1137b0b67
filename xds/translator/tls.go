package translator

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"

	"github.com/gluon-gateway/gluon/xds/ir"
)

func upstreamTLS(t *ir.TLS) (*corev3.TransportSocket, error) {
	return tlsTransportSocket(&tlsv3.UpstreamTlsContext{Sni: t.SNI, CommonTlsContext: commonTLS(t)})
}

// upstreamTLSFiles reads its certificates from files on the proxy's host:
// the proxy's own identity, which the control plane never holds.
func upstreamTLSFiles(t *ir.TLSFiles, sni string) (*corev3.TransportSocket, error) {
	c := &tlsv3.CommonTlsContext{ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{
		ValidationContext: &tlsv3.CertificateValidationContext{TrustedCa: file(t.CAFile)},
	}}
	if t.CertFile != "" {
		c.TlsCertificates = []*tlsv3.TlsCertificate{{CertificateChain: file(t.CertFile), PrivateKey: file(t.KeyFile)}}
	}
	return tlsTransportSocket(&tlsv3.UpstreamTlsContext{Sni: sni, CommonTlsContext: c})
}

func tlsTransportSocket(ctx *tlsv3.UpstreamTlsContext) (*corev3.TransportSocket, error) {
	cfg, err := packAny(ctx)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &corev3.TransportSocket{Name: wellknown.TransportSocketTLS, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: cfg}}, nil
}

func file(path string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: path}}
}

// commonTLS carries the client certificate and the CAs, inline: they come
// from a Secret and change with it.
func commonTLS(t *ir.TLS) *tlsv3.CommonTlsContext {
	if t.ClientCert == nil && t.RootCA == "" {
		return nil
	}
	c := &tlsv3.CommonTlsContext{}
	if k := t.ClientCert; k != nil {
		c.TlsCertificates = []*tlsv3.TlsCertificate{{
			CertificateChain: inline(k.CertChain),
			PrivateKey:       inline(k.PrivateKey),
		}}
	}
	if t.RootCA != "" {
		c.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{
			ValidationContext: &tlsv3.CertificateValidationContext{TrustedCa: inline(t.RootCA)},
		}
	}
	return c
}

func inline(s string) *corev3.DataSource {
	return &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: s}}
}
