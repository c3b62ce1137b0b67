package api

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"

	"golang.org/x/net/http/httpguts"
)

// validateTLSSecret checks that the certificate and key make a pair and
// that the CAs parse; messages never quote the values.
func validateTLSSecret(f *fieldErrors, s *TLSSecret) {
	if _, err := tls.X509KeyPair([]byte(s.CertChain), []byte(s.PrivateKey)); err != nil {
		f.add("spec.tls", "certChain and privateKey are not a PEM certificate and its key")
	}
	if s.RootCA != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(s.RootCA)) {
		f.add("spec.tls.rootCa", "holds no PEM certificate")
	}
}

func validateHeaderSecret(f *fieldErrors, s *HeaderSecret) {
	if len(s.Headers) == 0 {
		f.add("spec.header.headers", "at least one header is required")
	}
	for name, value := range s.Headers {
		if !httpguts.ValidHeaderFieldName(name) || http.CanonicalHeaderKey(name) == "Host" || name[0] == ':' {
			f.add("spec.header.headers", "%q is not a header a secret may set", name)
		}
		if !httpguts.ValidHeaderFieldValue(value) {
			f.add("spec.header.headers."+name, "is not a valid header value")
		}
	}
}
