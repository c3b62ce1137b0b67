package api

import (
	"slices"
	"strings"
)

// SSLConfig is Gloo's: it makes a VirtualService an HTTPS one, served by
// the Gateways with ssl: true, on a filter chain of its own chosen by SNI.
// The certificate comes from a tls Secret (secretRef) or from files on the
// proxy's host (sslFiles); a CA there (the Secret's rootCa) requires and
// verifies client certificates, unless oneWayTls.
type SSLConfig struct {
	SecretRef *ResourceRef `json:"secretRef,omitempty"`
	SSLFiles  *SSLFiles    `json:"sslFiles,omitempty"`
	// SniDomains are the server names that select this VirtualService's
	// chain; default its domains (a default chain when those are "*").
	SniDomains []string `json:"sniDomains,omitempty"`
	// VerifySubjectAltName lists the SANs a client certificate must have
	// one of.
	VerifySubjectAltName []string       `json:"verifySubjectAltName,omitempty"`
	Parameters           *SSLParameters `json:"parameters,omitempty"`
	// AlpnProtocols offered; default h2 and http/1.1.
	AlpnProtocols []string `json:"alpnProtocols,omitempty"`
	// OneWayTLS keeps client certificates optional even with a CA.
	OneWayTLS *bool `json:"oneWayTls,omitempty"`
}

// SSLFiles are paths on the proxy's host.
type SSLFiles struct {
	TLSCert string `json:"tlsCert"`
	TLSKey  string `json:"tlsKey"`
	RootCA  string `json:"rootCa,omitempty"`
}

// SSLParameters bound the protocol versions and cipher suites.
type SSLParameters struct {
	// MinimumProtocolVersion and MaximumProtocolVersion are Envoy's names:
	// TLSv1_2, TLSv1_3 (TLS_AUTO: the default; 1.0 and 1.1 are refused).
	MinimumProtocolVersion string `json:"minimumProtocolVersion,omitempty"`
	MaximumProtocolVersion string `json:"maximumProtocolVersion,omitempty"`
	// CipherSuites are OpenSSL names of TLS 1.2 suites (TLS 1.3's are fixed).
	CipherSuites []string `json:"cipherSuites,omitempty"`
}

// TLSVersions are the protocol versions Gluon accepts, by Envoy's name.
var TLSVersions = map[string]bool{"TLS_AUTO": true, "TLSv1_2": true, "TLSv1_3": true}

// CipherSuites are the TLS 1.2 suites Gluon serves, by OpenSSL name (as
// Envoy names them): the AEAD suites with forward secrecy.
var CipherSuites = []string{
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
}

func validateSSLConfig(f *fieldErrors, path string, s *SSLConfig) {
	if s == nil {
		return
	}
	if countSet(s.SecretRef != nil, s.SSLFiles != nil) != 1 {
		f.add(path, "exactly one of secretRef, sslFiles must be set")
	}
	if s.SecretRef != nil && s.SecretRef.Name == "" {
		f.add(path+".secretRef.name", "is required")
	}
	if fl := s.SSLFiles; fl != nil && (fl.TLSCert == "" || fl.TLSKey == "") {
		f.add(path+".sslFiles", "tlsCert and tlsKey are required")
	}
	validateServerNames(f, path+".sniDomains", s.SniDomains)
	for i, p := range s.AlpnProtocols {
		if p != "h2" && p != "http/1.1" {
			f.add(idx(path+".alpnProtocols", i), "%q is not one of h2, http/1.1", p)
		}
	}
	if p := s.Parameters; p != nil {
		for _, v := range []struct{ field, value string }{{"minimumProtocolVersion", p.MinimumProtocolVersion}, {"maximumProtocolVersion", p.MaximumProtocolVersion}} {
			if v.value != "" && !TLSVersions[v.value] {
				f.add(path+".parameters."+v.field, "%q is not one of TLS_AUTO, TLSv1_2, TLSv1_3", v.value)
			}
		}
		for i, c := range p.CipherSuites {
			if !slices.Contains(CipherSuites, c) {
				f.add(idx(path+".parameters.cipherSuites", i), "%q is not one of %s", c, strings.Join(CipherSuites, ", "))
			}
		}
	}
}

func validateServerNames(f *fieldErrors, path string, names []string) {
	for i, d := range names {
		if d == "" || strings.ContainsAny(d, " /:") || strings.Count(d, "*") > 1 || (strings.Contains(d, "*") && !strings.HasPrefix(d, "*.")) {
			f.add(idx(path, i), "%q is not a server name or *.suffix", d)
		}
	}
}
