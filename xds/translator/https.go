package translator

import (
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// defaultALPN lets clients choose HTTP/2 over TLS.
var defaultALPN = []string{"h2", "http/1.1"}

var tlsVersions = map[string]tlsv3.TlsParameters_TlsProtocol{
	"":         tlsv3.TlsParameters_TLS_AUTO,
	"TLS_AUTO": tlsv3.TlsParameters_TLS_AUTO,
	"TLSv1_2":  tlsv3.TlsParameters_TLSv1_2,
	"TLSv1_3":  tlsv3.TlsParameters_TLSv1_3,
}

// chainRouteName names the route configuration of one filter chain: each
// chain serves only its own virtual hosts, so a client cannot reach an
// mTLS virtual host through another chain's handshake.
func chainRouteName(l *ir.Listener, c *ir.TLSChain) string { return l.Name + "/" + c.Name }

// httpsFilterChains are an HTTPS listener's chains, chosen by SNI (the TLS
// inspector reads it), each terminating TLS with certificates fetched over
// SDS, or read from files on the proxy's host.
func httpsFilterChains(l *ir.Listener, filters []*hcmv3.HttpFilter) ([]*listenerv3.FilterChain, error) {
	out := make([]*listenerv3.FilterChain, 0, len(l.TLS))
	for _, c := range l.TLS {
		hcm, err := connectionManager(l, filters, chainRouteName(l, c))
		if err != nil {
			return nil, err
		}
		ts, err := downstreamTLS(c)
		if err != nil {
			return nil, fmt.Errorf("chain %q: %w", c.Name, err)
		}
		fc := &listenerv3.FilterChain{
			Name:            c.Name,
			Filters:         []*listenerv3.Filter{hcm},
			TransportSocket: ts,
		}
		if len(c.ServerNames) > 0 {
			fc.FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: c.ServerNames}
		}
		out = append(out, fc)
	}
	return out, nil
}

func tlsInspector() ([]*listenerv3.ListenerFilter, error) {
	cfg, err := packAny(&tlsinspectorv3.TlsInspector{})
	if err != nil {
		return nil, err
	}
	return []*listenerv3.ListenerFilter{{Name: wellknown.TlsInspector, ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: cfg}}}, nil
}

func downstreamTLS(c *ir.TLSChain) (*corev3.TransportSocket, error) {
	common := &tlsv3.CommonTlsContext{AlpnProtocols: c.ALPN}
	if len(common.AlpnProtocols) == 0 {
		common.AlpnProtocols = defaultALPN
	}
	if c.MinVersion != "" || c.MaxVersion != "" || len(c.CipherSuites) > 0 {
		common.TlsParams = &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsVersions[c.MinVersion],
			TlsMaximumProtocolVersion: tlsVersions[c.MaxVersion], CipherSuites: c.CipherSuites}
	}
	validation := &tlsv3.CertificateValidationContext{MatchTypedSubjectAltNames: sanMatchers(c.VerifySANs)}
	if f := c.Files; f != nil {
		common.TlsCertificates = []*tlsv3.TlsCertificate{{CertificateChain: file(f.CertFile), PrivateKey: file(f.KeyFile)}}
		if f.CAFile != "" {
			validation.TrustedCa = file(f.CAFile)
		}
	} else {
		common.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{{Name: c.CertificateSecret, SdsConfig: adsSource()}}
	}
	switch {
	case c.CASecret != "":
		common.ValidationContextType = &tlsv3.CommonTlsContext_CombinedValidationContext{
			CombinedValidationContext: &tlsv3.CommonTlsContext_CombinedCertificateValidationContext{
				DefaultValidationContext:         validation,
				ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: c.CASecret, SdsConfig: adsSource()},
			}}
	case validation.TrustedCa != nil || len(validation.MatchTypedSubjectAltNames) > 0:
		common.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: validation}
	}
	cfg, err := packAny(&tlsv3.DownstreamTlsContext{CommonTlsContext: common, RequireClientCertificate: wrapperspb.Bool(c.RequireClientCert)})
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: wellknown.TransportSocketTLS, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: cfg}}, nil
}

// sanMatchers accept a client certificate with one of the names as a DNS
// or URI subject alternative name.
func sanMatchers(names []string) []*tlsv3.SubjectAltNameMatcher {
	var out []*tlsv3.SubjectAltNameMatcher
	for _, n := range names {
		for _, t := range []tlsv3.SubjectAltNameMatcher_SanType{tlsv3.SubjectAltNameMatcher_DNS, tlsv3.SubjectAltNameMatcher_URI} {
			out = append(out, &tlsv3.SubjectAltNameMatcher{SanType: t,
				Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: n}}})
		}
	}
	return out
}

// sdsSecrets are the proxy's SDS secrets.
func sdsSecrets(p *ir.Proxy) ([]*tlsv3.Secret, error) {
	out := make([]*tlsv3.Secret, 0, len(p.Secrets))
	for _, s := range p.Secrets {
		sec := &tlsv3.Secret{Name: s.Name}
		if k := s.Certificate; k != nil {
			sec.Type = &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
				CertificateChain: inline(k.CertChain), PrivateKey: inline(k.PrivateKey)}}
		} else {
			sec.Type = &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{TrustedCa: inline(s.TrustedCA)}}
		}
		if err := sec.ValidateAll(); err != nil {
			return nil, fmt.Errorf("secret %q: %w", s.Name, err)
		}
		out = append(out, sec)
	}
	return out, nil
}
