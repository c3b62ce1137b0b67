package grpc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/gluon-gateway/gluon/fds"
	"github.com/gluon-gateway/gluon/functions"
)

// Target is what to discover on one gRPC upstream: a descriptor set
// (inline, or a file on the control plane's host), else the server at
// Addr by reflection.
type Target struct {
	Addr       string
	TLS        bool
	ServerName string
	// RootCA (PEM) verifies the server; none: the system's roots.
	RootCA         []byte
	Descriptor     []byte
	DescriptorFile string
	Limits         Limits
	// Timeout bounds one reflection conversation (default 10s).
	Timeout time.Duration
}

// Finder is the fds.Discoverer of gRPC methods.
type Finder struct{ t Target }

// NewFinder returns the finder of t.
func NewFinder(t Target) *Finder { return &Finder{t: t} }

// Discover implements fds.Discoverer: a server that does not speak
// HTTP/2, or gRPC without reflection, is "not mine"; a descriptor that
// does not parse is reported; failing to connect is transient.
func (f *Finder) Discover(ctx context.Context) (functions.Discovered, error) {
	if f.t.Descriptor != nil || f.t.DescriptorFile != "" {
		return f.fromConfig()
	}
	timeout := f.t.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := f.probeHTTP2(ctx); err != nil {
		return functions.Discovered{}, err
	}
	creds := insecure.NewCredentials()
	if f.t.TLS {
		creds = credentials.NewTLS(f.tlsConfig())
	}
	conn, err := grpc.NewClient(f.t.Addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return functions.Discovered{}, err
	}
	defer conn.Close()
	set, err := reflect(ctx, conn, f.t.Limits)
	switch {
	case errors.Is(err, errNoReflection):
		return functions.Discovered{}, fds.NotMine(err)
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrBadDescriptor):
		return functions.Discovered{}, err
	case err != nil:
		return functions.Discovered{}, fds.Transient(fmt.Errorf("server reflection at %s: %w", f.t.Addr, err))
	}
	return discovered(set, "grpc reflection "+f.t.Addr)
}

func (f *Finder) fromConfig() (functions.Discovered, error) {
	raw, source := f.t.Descriptor, "inline descriptor set"
	if f.t.DescriptorFile != "" {
		var err error
		if raw, err = readBounded(f.t.DescriptorFile, f.t.Limits.maxBytes()); err != nil {
			return functions.Discovered{}, err
		}
		source = "descriptor set " + f.t.DescriptorFile
	}
	set, err := ParseSet(raw, f.t.Limits)
	if err != nil {
		return functions.Discovered{}, fmt.Errorf("%s: %w", source, err)
	}
	return discovered(set, source)
}

func readBounded(path string, limit int) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	raw, err := io.ReadAll(io.LimitReader(file, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > limit {
		return nil, fmt.Errorf("%w: %s is more than %d bytes", ErrTooLarge, path, limit)
	}
	return raw, nil
}

// probeHTTP2 checks that the server speaks HTTP/2: over TLS it must pick
// h2 by ALPN; in cleartext it must answer the connection preface with a
// SETTINGS frame. A server that does not is not a gRPC server.
func (f *Finder) probeHTTP2(ctx context.Context) error {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", f.t.Addr)
	if err != nil {
		return fds.Transient(err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if f.t.TLS {
		cfg := f.tlsConfig()
		cfg.NextProtos = []string{"h2"}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fds.Transient(err)
		}
		if tc.ConnectionState().NegotiatedProtocol != "h2" {
			return fds.NotMine(fmt.Errorf("%s does not offer HTTP/2 (ALPN h2): not a gRPC server", f.t.Addr))
		}
		return nil
	}
	if !fds.AnswersH2CPreface(conn) {
		return fds.NotMine(fmt.Errorf("%s does not speak HTTP/2 in cleartext (h2c): not a gRPC server", f.t.Addr))
	}
	return nil
}

// tlsConfig verifies the server by its name (the host's, unless SNI is
// set) against RootCA, else the system's roots.
func (f *Finder) tlsConfig() *tls.Config {
	cfg := &tls.Config{ServerName: f.t.ServerName, MinVersion: tls.VersionTLS12}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(f.t.Addr)
	}
	if len(f.t.RootCA) > 0 {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(f.t.RootCA)
		cfg.RootCAs = pool
	}
	return cfg
}
