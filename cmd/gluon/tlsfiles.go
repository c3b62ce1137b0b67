package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"
)

// tlsFiles name a PEM certificate, its key and a CA bundle on disk. The
// certificate and key are read again when either file changes (checked at
// each handshake), so that a rotated Secret takes effect without a restart.
type tlsFiles struct {
	cert, key, ca string
}

// addServerTLSFlags adds --<prefix>-tls-cert, -tls-key and -client-ca.
func addServerTLSFlags(f *pflag.FlagSet, prefix, what string, t *tlsFiles) {
	f.StringVar(&t.cert, prefix+"-tls-cert", "", "PEM certificate the "+what+" serves (turns on TLS)")
	f.StringVar(&t.key, prefix+"-tls-key", "", "PEM private key of --"+prefix+"-tls-cert")
	f.StringVar(&t.ca, prefix+"-client-ca", "", "PEM CA bundle that client certificates of the "+what+" must chain to (turns on mutual TLS)")
}

func (t tlsFiles) enabled() bool { return t.cert != "" || t.key != "" || t.ca != "" }

// serverConfig is the TLS config of a server: its certificate, and when a
// client CA is set, client certificates required and verified.
func (t tlsFiles) serverConfig() (*tls.Config, error) {
	if t.cert == "" || t.key == "" {
		return nil, errors.New("a TLS certificate and key are both required")
	}
	kp := &reloadingKeyPair{cert: t.cert, key: t.key}
	if _, err := kp.get(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.get() }}
	if t.ca != "" {
		pool, err := certPool(t.ca)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// clientConfig is the TLS config of a client: the server is verified
// against the CA (the system roots when none) and the certificate, when
// set, presented.
func (t tlsFiles) clientConfig(serverName string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if t.ca != "" {
		pool, err := certPool(t.ca)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if (t.cert == "") != (t.key == "") {
		return nil, errors.New("a client certificate needs both its certificate and key files")
	}
	if t.cert != "" {
		kp := &reloadingKeyPair{cert: t.cert, key: t.key}
		if _, err := kp.get(); err != nil {
			return nil, err
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.get() }
	}
	return cfg, nil
}

func certPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", path)
	}
	return pool, nil
}

// reloadingKeyPair is a certificate and key read again when a file changes.
type reloadingKeyPair struct {
	cert, key string

	mu      sync.Mutex
	stamp   [2]time.Time
	current *tls.Certificate
}

func (k *reloadingKeyPair) get() (*tls.Certificate, error) {
	stamp, err := modTimes(k.cert, k.key)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.current != nil && stamp == k.stamp {
		return k.current, nil
	}
	pair, err := tls.LoadX509KeyPair(k.cert, k.key)
	if err != nil {
		if k.current != nil {
			return k.current, nil // a half-written rotation: keep the last good pair
		}
		return nil, fmt.Errorf("loading %s and %s: %w", k.cert, k.key, err)
	}
	k.current, k.stamp = &pair, stamp
	return k.current, nil
}

func modTimes(paths ...string) ([2]time.Time, error) {
	var out [2]time.Time
	for i, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return out, fmt.Errorf("TLS file: %w", err)
		}
		out[i] = fi.ModTime()
	}
	return out, nil
}

// isLoopback reports whether a listen address only accepts local peers.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
