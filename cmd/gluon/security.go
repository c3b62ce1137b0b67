package main

import (
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/gluon-gateway/gluon/xds/ir"
	"github.com/gluon-gateway/gluon/xds/server"
)

// security is how the control plane's three network endpoints are guarded,
// made from the flags.
type security struct {
	xdsCreds      []grpc.ServerOption
	xdsClientAuth bool        // xDS streams are held to their certificate's proxies
	rls           *tls.Config // nil: plain text
	admin         *tls.Config
	adminToken    string
	proxyIdentity *ir.TLSFiles  // how proxies reach a TLS rate-limit service
	stateSealer   server.Sealer // encrypts the state directory; nil: plain (0600)
}

// security checks that no endpoint is open to the network without
// authentication (unless --allow-insecure-remote) and loads the TLS files.
func (o serveOptions) security() (security, error) {
	var s security
	var err error
	if o.xdsTLS.enabled() {
		cfg, err := o.xdsTLS.serverConfig()
		if err != nil {
			return s, fmt.Errorf("xDS TLS: %w", err)
		}
		s.xdsCreds, s.xdsClientAuth = []grpc.ServerOption{grpc.Creds(credentials.NewTLS(cfg))}, o.xdsTLS.ca != ""
	}
	if o.rlsTLS.enabled() {
		if s.rls, err = o.rlsTLS.serverConfig(); err != nil {
			return s, fmt.Errorf("rate-limit TLS: %w", err)
		}
		if o.proxyIdentity.ca == "" {
			return s, fmt.Errorf("rate-limit TLS: --proxy-ca must say where proxies find the CA that verifies it")
		}
		if o.rlsTLS.ca != "" && (o.proxyIdentity.cert == "" || o.proxyIdentity.key == "") {
			return s, fmt.Errorf("rate-limit mutual TLS: --proxy-tls-cert and --proxy-tls-key must say where proxies find their certificate")
		}
		s.proxyIdentity = &ir.TLSFiles{CertFile: o.proxyIdentity.cert, KeyFile: o.proxyIdentity.key, CAFile: o.proxyIdentity.ca}
	}
	if o.adminTLS.enabled() {
		if s.admin, err = o.adminTLS.serverConfig(); err != nil {
			return s, fmt.Errorf("admin TLS: %w", err)
		}
	}
	if o.stateKeyFile != "" {
		sealer, err := loadSealer(o.stateKeyFile)
		if err != nil {
			return s, err
		}
		s.stateSealer = sealer
	}
	if o.adminTokenFile != "" {
		b, err := os.ReadFile(o.adminTokenFile)
		if err != nil {
			return s, fmt.Errorf("admin token: %w", err)
		}
		if s.adminToken = strings.TrimSpace(string(b)); len(s.adminToken) < 16 {
			return s, fmt.Errorf("admin token in %s: want at least 16 characters", o.adminTokenFile)
		}
	}
	return s, o.checkExposure(s)
}

// checkExposure refuses a non-loopback endpoint that anyone could use: the
// xDS port hands out cloud credentials, and the admin port the config.
func (o serveOptions) checkExposure(s security) error {
	if o.allowInsecure {
		return nil
	}
	open := []struct {
		flag, addr string
		guarded    bool
		how        string
	}{
		{"--xds-addr", o.xdsAddr, s.xdsClientAuth, "--xds-tls-cert, --xds-tls-key and --xds-client-ca"},
		{"--ratelimit-addr", o.rlsAddr, s.rls != nil && o.rlsTLS.ca != "", "--ratelimit-tls-cert, --ratelimit-tls-key and --ratelimit-client-ca"},
		{"--admin-addr", o.adminAddr, s.adminToken != "" || o.adminTLS.ca != "", "--admin-token-file, or --admin-tls-cert, --admin-tls-key and --admin-client-ca"},
	}
	for _, e := range open {
		if !e.guarded && !isLoopback(e.addr) {
			return fmt.Errorf("%s %s is not a loopback address: set %s (or --allow-insecure-remote on a trusted network)", e.flag, e.addr, e.how)
		}
	}
	return nil
}

// adminAuth requires the bearer token, when one is set, on everything but
// the health probes, which reveal nothing.
func (s security) adminAuth(h http.Handler) http.Handler {
	if s.adminToken == "" {
		return h
	}
	want := []byte("Bearer " + s.adminToken)
	token := []byte(s.adminToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A browser cannot send a bearer token: the console is opened once
		// with ?token=…, which becomes an HttpOnly cookie.
		if q := r.URL.Query().Get("token"); q != "" && strings.HasPrefix(r.URL.Path, "/console/") &&
			subtle.ConstantTimeCompare([]byte(q), token) == 1 {
			http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: q, Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
			http.Redirect(w, r, r.URL.Path, http.StatusSeeOther)
			return
		}
		c, _ := r.Cookie(consoleCookie)
		authorized := subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) == 1 ||
			c != nil && subtle.ConstantTimeCompare([]byte(c.Value), token) == 1
		if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && !authorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gluon-admin"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// consoleCookie carries the admin token for the console's browser.
const consoleCookie = "gluon_admin_token"
