package translator

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

func upstreamTLS(t *ir.TLS) (*corev3.TransportSocket, error) {
	cfg, err := anypb.New(&tlsv3.UpstreamTlsContext{Sni: t.SNI, CommonTlsContext: commonTLS(t)})
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &corev3.TransportSocket{Name: wellknown.TransportSocketTLS, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: cfg}}, nil
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
