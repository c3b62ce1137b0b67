package dataplane

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"golang.org/x/net/http2"
)

const (
	tlsInspectorType       = "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
	downstreamTLSType      = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
	sanTypeDNS, sanTypeURI = tlsv3.SubjectAltNameMatcher_DNS, tlsv3.SubjectAltNameMatcher_URI
)

// checkListenerFilters accepts the TLS inspector only: the data plane reads
// SNI in its own handshake, so the filter asks for nothing more.
func checkListenerFilters(lfs []*listenerv3.ListenerFilter) error {
	for i, lf := range lfs {
		if err := onlyFields(lf, "name", "typed_config"); err != nil {
			return fmt.Errorf("listener_filters[%d]: %w", i, err)
		}
		if lf.GetTypedConfig().GetTypeUrl() != tlsInspectorType {
			return fmt.Errorf("listener filter %q is not supported (only %s)", lf.GetName(), wellknown.TlsInspector)
		}
		if err := emptyListenerConfig(lf.GetTypedConfig(), &tlsinspectorv3.TlsInspector{}, "the inspector has no settings here"); err != nil {
			return fmt.Errorf("listener filter %q: %w", lf.GetName(), err)
		}
	}
	return nil
}

// chainTLS is how a filter chain terminates TLS: the server names that
// choose it, its certificate and client CAs (by SDS name, or loaded from
// files), and the handshake's bounds.
type chainTLS struct {
	serverNames  []string
	certSecret   string           // SDS name; or
	cert         *tls.Certificate // from files
	caSecret     string           // SDS name; or
	ca           *x509.CertPool   // from files; nil: no client certificates
	requireCert  bool
	sans         []string
	minVersion   uint16
	maxVersion   uint16
	cipherSuites []uint16
	alpn         []string
}

// compileTLSChain compiles one filter chain of an HTTPS listener into a
// connection manager of its own.
func (lc *listenerConfig) compileTLSChain(fc *listenerv3.FilterChain, ext *extensions) (*listenerConfig, error) {
	if err := onlyFields(fc, "filters", "name", "metadata", "filter_chain_match", "transport_socket"); err != nil {
		return nil, err
	}
	if m := fc.GetFilterChainMatch(); m != nil {
		if err := onlyFields(m, "server_names"); err != nil {
			return nil, fmt.Errorf("filter_chain_match: %w", err)
		}
	}
	ts := fc.GetTransportSocket()
	if ts == nil || ts.GetTypedConfig().GetTypeUrl() != downstreamTLSType {
		return nil, errors.New("every chain of a listener with several needs a DownstreamTlsContext transport socket")
	}
	chain := &listenerConfig{name: lc.name + "/" + fc.GetName(), addr: lc.addr, bufferLimit: lc.bufferLimit}
	if err := chain.compileChainHCM(fc, ext); err != nil {
		return nil, err
	}
	ctx := &tlsv3.DownstreamTlsContext{}
	if err := decodeAny(ts.GetTypedConfig(), ctx); err != nil {
		return nil, err
	}
	t, err := compileDownstreamTLS(ctx)
	if err != nil {
		return nil, fmt.Errorf("transport_socket: %w", err)
	}
	t.serverNames = fc.GetFilterChainMatch().GetServerNames()
	chain.tls = t
	return chain, nil
}

func compileDownstreamTLS(ctx *tlsv3.DownstreamTlsContext) (*chainTLS, error) {
	if err := onlyFields(ctx, "common_tls_context", "require_client_certificate"); err != nil {
		return nil, err
	}
	common := ctx.GetCommonTlsContext()
	if err := onlyFields(common, "tls_params", "tls_certificates", "tls_certificate_sds_secret_configs",
		"validation_context", "combined_validation_context", "alpn_protocols"); err != nil {
		return nil, err
	}
	t := &chainTLS{requireCert: ctx.GetRequireClientCertificate().GetValue(), alpn: common.GetAlpnProtocols(), minVersion: tls.VersionTLS12}
	if err := t.compileParams(common.GetTlsParams()); err != nil {
		return nil, fmt.Errorf("tls_params: %w", err)
	}
	if err := t.compileCertificate(common); err != nil {
		return nil, err
	}
	var vc *tlsv3.CertificateValidationContext
	switch v := common.GetValidationContextType().(type) {
	case *tlsv3.CommonTlsContext_ValidationContext:
		vc = v.ValidationContext
	case *tlsv3.CommonTlsContext_CombinedValidationContext:
		vc = v.CombinedValidationContext.GetDefaultValidationContext()
		sds := v.CombinedValidationContext.GetValidationContextSdsSecretConfig()
		if err := checkSDSConfig(sds); err != nil {
			return nil, fmt.Errorf("validation_context_sds_secret_config: %w", err)
		}
		t.caSecret = sds.GetName()
	}
	if err := t.compileValidation(vc); err != nil {
		return nil, fmt.Errorf("validation context: %w", err)
	}
	if t.requireCert && t.ca == nil && t.caSecret == "" {
		return nil, errors.New("require_client_certificate needs a CA to verify them with")
	}
	return t, nil
}

func (t *chainTLS) compileCertificate(common *tlsv3.CommonTlsContext) error {
	sds, files := common.GetTlsCertificateSdsSecretConfigs(), common.GetTlsCertificates()
	switch {
	case len(sds) == 1 && len(files) == 0:
		if err := checkSDSConfig(sds[0]); err != nil {
			return fmt.Errorf("tls_certificate_sds_secret_configs: %w", err)
		}
		t.certSecret = sds[0].GetName()
	case len(files) == 1 && len(sds) == 0:
		cert, err := compileTLSCertificate(files[0])
		if err != nil {
			return fmt.Errorf("tls_certificates: %w", err)
		}
		t.cert = cert
	default:
		return errors.New("want exactly one certificate, over SDS or in tls_certificates")
	}
	return nil
}

func checkSDSConfig(c *tlsv3.SdsSecretConfig) error {
	if err := onlyFields(c, "name", "sds_config"); err != nil {
		return err
	}
	if c.GetName() == "" {
		return errors.New("a secret name is required")
	}
	return checkADSConfigSource(c.GetSdsConfig())
}

func (t *chainTLS) compileValidation(vc *tlsv3.CertificateValidationContext) error {
	if vc == nil {
		return nil
	}
	if err := onlyFields(vc, "trusted_ca", "match_typed_subject_alt_names"); err != nil {
		return err
	}
	if vc.GetTrustedCa() != nil {
		pool, err := caPool(vc.GetTrustedCa())
		if err != nil {
			return err
		}
		t.ca = pool
	}
	for _, m := range vc.GetMatchTypedSubjectAltNames() {
		if err := onlyFields(m, "san_type", "matcher"); err != nil {
			return err
		}
		if m.GetSanType() != sanTypeDNS && m.GetSanType() != sanTypeURI {
			return fmt.Errorf("san_type %v is not supported (DNS, URI)", m.GetSanType())
		}
		exact := m.GetMatcher().GetExact()
		if exact == "" || m.GetMatcher().GetIgnoreCase() {
			return errors.New("subject alt names are matched exactly only")
		}
		if !slices.Contains(t.sans, exact) {
			t.sans = append(t.sans, exact)
		}
	}
	return nil
}

var tlsVersions = map[tlsv3.TlsParameters_TlsProtocol]uint16{
	tlsv3.TlsParameters_TLSv1_2: tls.VersionTLS12,
	tlsv3.TlsParameters_TLSv1_3: tls.VersionTLS13,
}

// cipherSuiteIDs are Go's TLS 1.2 suites by their OpenSSL (Envoy) names.
var cipherSuiteIDs = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

func (t *chainTLS) compileParams(p *tlsv3.TlsParameters) error {
	if p == nil {
		return nil
	}
	if err := onlyFields(p, "tls_minimum_protocol_version", "tls_maximum_protocol_version", "cipher_suites"); err != nil {
		return err
	}
	for _, v := range []struct {
		in  tlsv3.TlsParameters_TlsProtocol
		out *uint16
	}{{p.GetTlsMinimumProtocolVersion(), &t.minVersion}, {p.GetTlsMaximumProtocolVersion(), &t.maxVersion}} {
		if v.in == tlsv3.TlsParameters_TLS_AUTO {
			continue
		}
		id, ok := tlsVersions[v.in]
		if !ok {
			return fmt.Errorf("protocol version %v is not supported (TLS 1.2 and 1.3)", v.in)
		}
		*v.out = id
	}
	for _, name := range p.GetCipherSuites() {
		id, ok := cipherSuiteIDs[name]
		if !ok {
			return fmt.Errorf("cipher suite %q is not supported", name)
		}
		t.cipherSuites = append(t.cipherSuites, id)
	}
	return nil
}

// serverNameMatch scores how well a chain's server names match sni: most
// for an exact name, then by wildcard (more when the suffix is longer),
// least as the default chain (no names); 0: not at all.
func serverNameMatch(names []string, sni string) int {
	if len(names) == 0 {
		return 1
	}
	best := 0
	for _, n := range names {
		switch {
		case strings.EqualFold(n, sni):
			return 3 << 16
		case strings.HasPrefix(n, "*.") && len(sni) > len(n)-1 && strings.HasSuffix(strings.ToLower(sni), strings.ToLower(n[1:])):
			best = max(best, 2<<8+len(n))
		}
	}
	return best
}

// servedChain is a chain as served: its TLS, its secrets, its handler.
type servedChain struct {
	name     string
	tls      *chainTLS
	cert, ca *sdsSecret // nil when from files (or no CA)
	handler  http.Handler
}

// tlsServing is what an HTTPS listener serves now; swapped whole on a
// config change, read by each handshake.
type tlsServing struct {
	chains []*servedChain
}

// chainFor is the chain a server name selects: exact, then the longest
// wildcard, then the default chain, as Envoy's filter chain match.
func (t *tlsServing) chainFor(sni string) *servedChain {
	return bestChain(t.chains, func(c *servedChain) []string { return c.tls.serverNames }, sni)
}

// bestChain is the chain whose server names match sni best (see
// serverNameMatch), nil when none matches: the same choice for TLS and
// TCP chains.
func bestChain[C any](chains []*C, names func(*C) []string, sni string) *C {
	var best *C
	score := 0
	for _, c := range chains {
		if s := serverNameMatch(names(c), sni); s > score {
			best, score = c, s
		}
	}
	return best
}

func (t *tlsServing) byName(name string) *servedChain {
	for _, c := range t.chains {
		if c.name == name {
			return c
		}
	}
	return nil
}

// config is the handshake's configuration for the chain of the client's
// server name, with the certificate and CAs as they are now.
func (t *tlsServing) config(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	c := t.chainFor(hello.ServerName)
	if c == nil {
		return nil, fmt.Errorf("no filter chain for server name %q", hello.ServerName)
	}
	ct := c.tls
	cert := ct.cert
	if c.cert != nil {
		cert = c.cert.cert.Load()
	}
	if cert == nil {
		return nil, fmt.Errorf("chain %s has no certificate yet", c.name)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: ct.minVersion, MaxVersion: ct.maxVersion,
		CipherSuites: ct.cipherSuites, NextProtos: ct.alpn}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	pool := ct.ca
	if c.ca != nil {
		pool = c.ca.ca.Load()
	}
	if pool != nil {
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
		if ct.requireCert {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
	}
	if len(ct.sans) > 0 {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifySAN(cs, ct.sans) }
	}
	return cfg, nil
}

// verifySAN accepts a client certificate with one of the names as a DNS or
// URI SAN; no certificate at all is the CA settings' business.
func verifySAN(cs tls.ConnectionState, sans []string) error {
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	for _, n := range leaf.DNSNames {
		if slices.Contains(sans, n) {
			return nil
		}
	}
	for _, u := range leaf.URIs {
		if slices.Contains(sans, u.String()) {
			return nil
		}
	}
	return errors.New("client certificate has none of the subject alt names required")
}

// handshakeTimeout bounds a TLS handshake, so a client that stalls in it
// holds nothing for long.
const handshakeTimeout = 10 * time.Second

// serveTLS accepts on an HTTPS listener: each connection's handshake picks
// its chain by SNI, then it is served as HTTP/2 (ALPN h2) or HTTP/1.1 by
// that chain's handler, the one in force at each request.
func (m *listenerManager) serveTLS(b *boundListener) error {
	// One config for the listener's life: its session ticket keys (which
	// the per-chain configs use) let clients resume across connections.
	cfg := &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		return b.tls.Load().config(hello)
	}}
	return m.acceptLoop(b, func(conn net.Conn) { m.serveTLSConn(b, cfg, conn) })
}

func (m *listenerManager) serveTLSConn(b *boundListener, cfg *tls.Config, conn net.Conn) {
	defer m.guard.Recover("tls connection", conn, "remote", conn.RemoteAddr().String())
	tc := tls.Server(conn, cfg)
	_ = conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.Handshake(); err != nil {
		m.log.Debug("tls handshake failed", "address", b.addr, "remote", conn.RemoteAddr().String(), "error", err)
		_ = conn.Close()
		return
	}
	_ = conn.SetDeadline(time.Time{})
	cs := tc.ConnectionState()
	chain := b.tls.Load().chainFor(cs.ServerName)
	if chain == nil {
		_ = conn.Close()
		return
	}
	h := chainHandler{b: b, name: chain.name}
	if cs.NegotiatedProtocol == "h2" {
		b.h2.ServeConn(tc, &http2.ServeConnOpts{Handler: h})
		return
	}
	b.srv.ServeConn(tc, h)
}

// chainHandler serves a connection's requests with its chain's handler as
// configured at each request; a chain since removed answers 421, so that
// the client opens a new connection.
type chainHandler struct {
	b    *boundListener
	name string
}

func (h chainHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := h.b.tls.Load().byName(h.name)
	if c == nil {
		localReply(w, http.StatusMisdirectedRequest, "")
		return
	}
	c.handler.ServeHTTP(w, r)
}
