package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/filesource"
	"github.com/gluon-gateway/gluon/controlplane"
	"github.com/gluon-gateway/gluon/dataplane"
	"github.com/gluon-gateway/gluon/xds/server"
)

type serveOptions struct {
	configDir string
	xdsAddr   string
	adminAddr string
	stateDir  string
	// stateKeyFile, when set, encrypts what the state directory keeps.
	stateKeyFile string
	dataplane    string
	proxy        string
	rlsAddr      string
	// rlsAdvertise is where proxies reach the rate-limit service.
	rlsAdvertise string
	redisAddr    string
	kube         kubeOptions
	consul       consulOptions
	vault        vaultOptions

	xdsTLS, rlsTLS, adminTLS tlsFiles
	adminTokenFile           string
	// proxyIdentity is where each proxy keeps its client certificate, key
	// and the CA of the rate-limit service: the proxies present it there.
	proxyIdentity tlsFiles
	// allowInsecure lets xDS, rate-limit and admin serve a non-loopback
	// address without authentication.
	allowInsecure bool
}

func serveCommand() *cobra.Command {
	o := serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve config from a directory over xDS, with the embedded data plane",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), o, newLogger())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.configDir, "config-dir", "", "directory of YAML resources, watched for changes (required)")
	f.StringVar(&o.xdsAddr, "xds-addr", "127.0.0.1:9977", "address of the xDS (ADS gRPC) server")
	f.StringVar(&o.adminAddr, "admin-addr", "127.0.0.1:9976", "address of the admin endpoint (/healthz /readyz /statusz /snapshot)")
	f.StringVar(&o.stateDir, "state-dir", "", "where the last good snapshot and config are kept, readable by their owner only: they hold credentials (default: a per-config-dir folder in the user cache dir)")
	f.StringVar(&o.stateKeyFile, "state-key-file", "", "file holding a 32-byte key (raw, hex or base64) that encrypts the state directory's files (AES-256-GCM)")
	f.StringVar(&o.dataplane, "dataplane", "embedded", "embedded: run the Go data plane in-process; none: only serve xDS to external proxies")
	f.StringVar(&o.proxy, "proxy", api.DefaultProxyName, "the proxy the embedded data plane serves")
	f.StringVar(&o.rlsAddr, "ratelimit-addr", "127.0.0.1:9978", "address of the rate-limit service (gRPC) the proxies call for global limits")
	f.StringVar(&o.rlsAdvertise, "ratelimit-advertise-addr", "", "host:port proxies reach the rate-limit service at (default: --ratelimit-addr; loopback when that is unspecified)")
	f.StringVar(&o.redisAddr, "redis-addr", "", "Redis host:port for shared rate-limit counters (default: in memory, this instance only)")
	addServerTLSFlags(f, "xds", "xDS server", &o.xdsTLS)
	addServerTLSFlags(f, "ratelimit", "rate-limit service", &o.rlsTLS)
	addServerTLSFlags(f, "admin", "admin endpoint", &o.adminTLS)
	f.StringVar(&o.adminTokenFile, "admin-token-file", "", "file holding the bearer token the admin endpoint requires (all but /healthz and /readyz)")
	f.StringVar(&o.proxyIdentity.cert, "proxy-tls-cert", "", "path, on each proxy's host, of the client certificate it presents to the rate-limit service")
	f.StringVar(&o.proxyIdentity.key, "proxy-tls-key", "", "path, on each proxy's host, of the key of --proxy-tls-cert")
	f.StringVar(&o.proxyIdentity.ca, "proxy-ca", "", "path, on each proxy's host, of the CA bundle that verifies the rate-limit service")
	f.BoolVar(&o.allowInsecure, "allow-insecure-remote", false, "serve xDS, rate limits and admin on non-loopback addresses without mutual TLS or a token (a trusted network only)")
	addKubeFlags(f, &o.kube)
	addConsulFlags(f, &o.consul)
	addVaultFlags(f, &o.vault)
	return cmd
}

// newLogger returns the process logger and makes it the default, which the
// filter logic shared with Envoy logs through.
func newLogger() *slog.Logger {
	l := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(l)
	return l
}

// runServe starts, in this order, the xDS server with the last good
// snapshot restored, the admin endpoint, the embedded data plane, and only
// then the config source. It returns when ctx is done.
func runServe(ctx context.Context, o serveOptions, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if countTrue(o.configDir != "", o.kube.enabled || o.kube.kubeconfig != "", o.consul.prefix != "") != 1 {
		return errors.New("give exactly one config source: --config-dir, --kube / --kubeconfig, or --consul-prefix")
	}
	if o.consul.prefix != "" && o.consul.addr == "" {
		return errors.New("--consul-prefix reads Consul's KV store: give --consul-addr too")
	}
	if o.dataplane != "embedded" && o.dataplane != "none" {
		return fmt.Errorf("--dataplane: want embedded or none, got %q", o.dataplane)
	}
	sec, err := o.security()
	if err != nil {
		return err
	}
	stateDir, err := resolveStateDir(o)
	if err != nil {
		return err
	}
	srv := server.New(stateDir, log)
	if sec.stateSealer != nil {
		srv.SealWith(sec.stateSealer)
	}
	p := controlplane.New(srv, log)
	restored, err := srv.Restore(ctx)
	if err != nil {
		log.Error("some saved snapshots could not be restored", "err", err)
	}
	if len(restored) > 0 {
		log.Info("restored last good snapshot", "proxies", restored, "state-dir", stateDir)
		p.MarkReady()
	}
	xdsLis, err := net.Listen("tcp", o.xdsAddr)
	if err != nil {
		return fmt.Errorf("xds listener: %w", err)
	}
	adminLis, err := net.Listen("tcp", o.adminAddr)
	if err != nil {
		xdsLis.Close()
		return fmt.Errorf("admin listener: %w", err)
	}
	rls, rlsServer, gwOpts, err := startRateLimitService(o.rlsAddr, o.rlsAdvertise, o.redisAddr, sec.rls, log)
	if err != nil {
		xdsLis.Close()
		adminLis.Close()
		return err
	}
	defer rls.Close()
	defer rlsServer.Stop()
	gwOpts.GatewayAPIBindAddress = o.kube.gatewayAPIBindAddress
	gwOpts.RateLimitTLS = sec.proxyIdentity
	p.GatewayOptions, p.RateLimit = gwOpts, rls
	g := grpc.NewServer(append(recoverRPCs(log), sec.xdsCreds...)...)
	if sec.xdsClientAuth {
		srv.RegisterAuthenticated(ctx, g)
	} else {
		srv.Register(ctx, g)
	}
	go serveGRPC(g, xdsLis, log)
	// The embedded data plane has a channel of its own, in memory: it needs
	// no certificate, and nothing outside the process can use it.
	embedded := grpc.NewServer(recoverRPCs(log)...)
	srv.Register(ctx, embedded)
	inProcess := bufconn.Listen(1 << 20)
	go serveGRPC(embedded, inProcess, log)
	defer embedded.Stop()
	var dp *dataplane.DataPlane
	if o.dataplane == "embedded" {
		dp = dataplane.New(dataplane.Options{
			XDSAddress: "passthrough:///gluon-embedded",
			Dialer:     func(ctx context.Context, _ string) (net.Conn, error) { return inProcess.DialContext(ctx) },
			NodeID:     "gluon-embedded", Proxy: o.proxy, Logger: log.With("component", "dataplane"),
		})
	}
	admin := &http.Server{Handler: sec.adminAuth(adminHandler(p, dp)), ReadHeaderTimeout: 10 * time.Second, TLSConfig: sec.admin}
	go serveAdmin(admin, adminLis, log)
	log.Info("control plane listening", "xds", xdsLis.Addr().String(), "admin", adminLis.Addr().String(),
		"ratelimit", net.JoinHostPort(gwOpts.RateLimitAddress, fmt.Sprint(gwOpts.RateLimitPort)),
		"xds_mtls", sec.xdsClientAuth, "ratelimit_tls", sec.rls != nil, "admin_tls", sec.admin != nil, "admin_token", sec.adminToken != "")
	dpDone := make(chan struct{})
	if dp != nil {
		go func() {
			defer close(dpDone)
			if err := dp.Run(ctx); err != nil {
				log.Error("embedded data plane stopped", "err", err)
			}
		}()
	} else {
		close(dpDone)
	}
	go p.FollowCatalog(ctx)
	if o.vault.addr != "" {
		// Before the config source: its first read names the paths.
		if err := startVault(ctx, o.vault, p, log); err != nil {
			return err
		}
	}
	if o.consul.addr != "" {
		discover, err := consulDiscovery(o.consul, p, log)
		if err != nil {
			return err
		}
		go func() {
			if err := discover(ctx); err != nil {
				log.Error("consul upstream discovery stopped", "err", err)
			}
		}()
	}
	watchErr := runSource(ctx, o, stateDir, sec.stateSealer, p, log)
	cancel()
	shutdown(g, admin)
	<-dpDone
	return watchErr
}

func serveGRPC(g *grpc.Server, lis net.Listener, log *slog.Logger) {
	if err := g.Serve(lis); err != nil {
		log.Error("xds server stopped", "err", err)
	}
}

func serveAdmin(s *http.Server, lis net.Listener, log *slog.Logger) {
	serve := s.Serve
	if s.TLSConfig != nil {
		serve = func(lis net.Listener) error { return s.ServeTLS(lis, "", "") }
	}
	if err := serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("admin server stopped", "err", err)
	}
}

func shutdown(g *grpc.Server, admin *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// xDS streams never end by themselves: stop them after a short grace.
	stopped := make(chan struct{})
	go func() { g.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(time.Second):
		g.Stop()
	}
	_ = admin.Shutdown(ctx) // past the deadline the process exits anyway
}

// resolveStateDir defaults the state dir to one per config dir, so two
// gateways on one machine never restore each other's snapshots.
func resolveStateDir(o serveOptions) (string, error) {
	if o.stateDir != "" {
		return o.stateDir, nil
	}
	source := "kubernetes:" + o.kube.kubeconfig + ":" + o.kube.namespace
	if o.consul.prefix != "" {
		source = "consul:" + o.consul.addr + ":" + o.consul.prefix
	}
	if o.configDir != "" {
		abs, err := filepath.Abs(o.configDir)
		if err != nil {
			return "", fmt.Errorf("config dir: %w", err)
		}
		source = abs
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("state dir: %w (set --state-dir)", err)
	}
	sum := sha256.Sum256([]byte(source))
	return filepath.Join(cache, "gluon", "state", hex.EncodeToString(sum[:8])), nil
}

// runSource reads the config source into the pipeline; it returns when ctx
// is done, or at once if the source cannot be read at all.
// The last good version of each resource is kept in the state directory,
// so that a resource broken across a restart still serves as it did.
func runSource(ctx context.Context, o serveOptions, stateDir string, sealer server.Sealer, p *controlplane.Pipeline, log *slog.Logger) error {
	var state api.StateStore
	if stateDir != "" {
		state = configStateFile(stateDir, sealer)
	}
	if o.consul.prefix != "" {
		if o.consul.replicaID == "" {
			host, _ := os.Hostname() // a name for people; the address alone would do
			o.consul.replicaID = host + " " + o.adminAddr
		}
		return runConsulSource(ctx, o.consul, state, p, log)
	}
	if o.configDir == "" {
		return runKube(ctx, o.kube, state, p, log)
	}
	log.Info("reading config source", "dir", o.configDir)
	loader, err := filesource.NewLoader(o.configDir, state)
	if err != nil {
		log.Error("the saved config state could not be read; starting without it", "err", err)
	}
	return loader.Watch(ctx, func(s filesource.Snapshot, err error) { p.Apply(ctx, s, err) })
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
