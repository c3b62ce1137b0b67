package dataplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	httpopts "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/dataplane/internal/upstream"
)

const (
	defaultConnectTimeout = 5 * time.Second // Envoy's default
	defaultDNSRefresh     = 5 * time.Second // Envoy's default dns_refresh_rate
	defaultUpstreamIdle   = 90 * time.Second
	// retireGrace is how long a removed cluster keeps its idle connections, so
	// that requests still running on an older config finish undisturbed.
	retireGrace = 10 * time.Second

	httpProtocolOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
	tlsContextType         = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
	rawBufferType          = "type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer"
)

// upstreamCluster is a compiled Cluster: a connection pool (kept for as long
// as the cluster definition is unchanged) and its endpoints.
type upstreamCluster struct {
	name   string
	def    *clusterv3.Cluster // to detect unchanged definitions across CDS updates
	client upstream.Client
	// breakers limit the requests in flight; nil: no limit.
	breakers *breakers
	// eds clusters get endpoints from the ClusterLoadAssignment named edsName.
	eds     bool
	edsName string
	// dns clusters resolve dnsTargets every dnsRefresh.
	dnsTargets []lbEndpoint
	dnsNetwork string
	dnsAuto    bool // Envoy AUTO/V4_PREFERRED: keep one family only
	dnsPrefer6 bool
	dnsRefresh time.Duration
	// ctx ends when the cluster is retired, and its background work
	// (DNS refresh, health checks) with it.
	ctx  context.Context
	stop context.CancelFunc

	// How to reach the endpoints over gRPC, when a filter calls a service
	// through the cluster; the channel is created on first use.
	h2             bool
	tls            *tls.Config
	connectTimeout time.Duration
	grpc           grpcChannel

	// endpoints are the configured ones; health, which of them take traffic.
	endpoints atomic.Pointer[endpointSet]
	lb        lbConfig
	health    hostHealth
	// stats are the cluster's statistics, kept by name across updates.
	stats *clusterStats
	// outlier and healthCheck, when set, take failing hosts out of rotation.
	outlier     *outlierDetection
	healthCheck *healthCheck
	// warm is set once endpoints were assigned at least once; a config that
	// references a cold cluster is not complete yet.
	warm atomic.Bool
}

// retire stops background work and closes idle connections after a grace period.
func (c *upstreamCluster) retire() {
	c.stop()
	time.AfterFunc(retireGrace, func() {
		c.client.CloseIdle()
		c.grpc.close()
	})
}

func compileCluster(c *clusterv3.Cluster, open *atomic.Int64) (*upstreamCluster, error) {
	if err := onlyFields(c, "name", "type", "connect_timeout", "eds_cluster_config", "load_assignment", "lb_policy",
		"transport_socket", "typed_extension_protocol_options", "dns_refresh_rate", "dns_lookup_family",
		"alt_stat_name", "metadata", "per_connection_buffer_limit_bytes", "circuit_breakers",
		"least_request_lb_config", "ring_hash_lb_config", "maglev_lb_config", "common_lb_config",
		"outlier_detection", "health_checks"); err != nil {
		return nil, err
	}
	uc := &upstreamCluster{name: c.GetName(), def: c}
	uc.ctx, uc.stop = context.WithCancel(context.Background())
	var err error
	if uc.lb, err = compileLoadBalancer(c); err != nil {
		return nil, err
	}
	if uc.breakers, err = compileBreakers(c.GetCircuitBreakers()); err != nil {
		return nil, fmt.Errorf("circuit_breakers: %w", err)
	}
	if uc.outlier, err = compileOutlierDetection(c.GetOutlierDetection()); err != nil {
		return nil, fmt.Errorf("outlier_detection: %w", err)
	}
	if uc.healthCheck, err = compileHealthChecks(c.GetHealthChecks(), c.GetName()); err != nil {
		return nil, fmt.Errorf("health_checks: %w", err)
	}
	if err := uc.compileDiscovery(c); err != nil {
		return nil, err
	}
	connectTimeout := defaultConnectTimeout
	if t := c.GetConnectTimeout(); t != nil {
		d, err := duration(t)
		if err != nil {
			return nil, fmt.Errorf("connect_timeout: %w", err)
		}
		connectTimeout = d
	}
	tlsCfg, err := compileTransportSocket(c.GetTransportSocket())
	if err != nil {
		return nil, fmt.Errorf("transport_socket: %w", err)
	}
	h2, idle, err := compileProtocolOptions(c.GetTypedExtensionProtocolOptions())
	if err != nil {
		return nil, err
	}
	uc.h2, uc.tls, uc.connectTimeout = h2, tlsCfg, connectTimeout
	switch {
	case tlsCfg != nil:
		uc.client = upstream.NewTransport(connectTimeout, tlsCfg, h2, idle, open)
	case h2:
		uc.client = upstream.NewTransport(connectTimeout, nil, h2, idle, open)
	default:
		uc.client = upstream.NewPool(connectTimeout, idle, open)
	}
	return uc, nil
}

func (uc *upstreamCluster) compileDiscovery(c *clusterv3.Cluster) error {
	switch c.GetType() {
	case clusterv3.Cluster_EDS:
		ec := c.GetEdsClusterConfig()
		if err := onlyFields(ec, "eds_config", "service_name"); err != nil {
			return err
		}
		if err := checkADSConfigSource(ec.GetEdsConfig()); err != nil {
			return fmt.Errorf("eds_config: %w", err)
		}
		if c.GetLoadAssignment() != nil {
			return errors.New("load_assignment is not used by EDS clusters")
		}
		uc.eds, uc.edsName = true, ec.GetServiceName()
		if uc.edsName == "" {
			uc.edsName = c.GetName()
		}
	case clusterv3.Cluster_STATIC:
		les, err := compileLoadAssignment(c.GetLoadAssignment(), false)
		if err != nil {
			return fmt.Errorf("load_assignment: %w", err)
		}
		uc.setEndpoints(staticEndpoints(les))
	case clusterv3.Cluster_STRICT_DNS:
		les, err := compileLoadAssignment(c.GetLoadAssignment(), true)
		if err != nil {
			return fmt.Errorf("load_assignment: %w", err)
		}
		uc.dnsTargets = les
		uc.dnsRefresh = defaultDNSRefresh
		if r := c.GetDnsRefreshRate(); r != nil {
			d, err := duration(r)
			if err != nil || d < time.Millisecond {
				return fmt.Errorf("dns_refresh_rate must be at least 1ms: %v", r)
			}
			uc.dnsRefresh = d
		}
		switch c.GetDnsLookupFamily() {
		case clusterv3.Cluster_AUTO:
			uc.dnsNetwork, uc.dnsAuto, uc.dnsPrefer6 = "ip", true, true
		case clusterv3.Cluster_V4_PREFERRED:
			uc.dnsNetwork, uc.dnsAuto = "ip", true
		case clusterv3.Cluster_V4_ONLY:
			uc.dnsNetwork = "ip4"
		case clusterv3.Cluster_V6_ONLY:
			uc.dnsNetwork = "ip6"
		case clusterv3.Cluster_ALL:
			uc.dnsNetwork = "ip"
		default:
			return fmt.Errorf("dns_lookup_family %v is not supported", c.GetDnsLookupFamily())
		}
	default:
		return fmt.Errorf("cluster type %v is not supported (EDS, STATIC or STRICT_DNS)", c.GetType())
	}
	return nil
}

// checkADSConfigSource accepts only the aggregated stream as a config source:
// it is the only one this data plane talks to.
func checkADSConfigSource(cs *core.ConfigSource) error {
	if err := onlyFields(cs, "ads", "resource_api_version", "initial_fetch_timeout"); err != nil {
		return err
	}
	if cs.GetAds() == nil {
		return errors.New("config source must be ads")
	}
	if cs.GetResourceApiVersion() != core.ApiVersion_V3 && cs.GetResourceApiVersion() != core.ApiVersion_AUTO {
		return fmt.Errorf("resource_api_version %v is not supported", cs.GetResourceApiVersion())
	}
	return nil
}

// compileTransportSocket returns the TLS client config, or nil for plain TCP.
// Without a validation context the system roots verify the upstream, a
// stricter default than Envoy's.
func compileTransportSocket(ts *core.TransportSocket) (*tls.Config, error) {
	if ts == nil {
		return nil, nil
	}
	if err := onlyFields(ts, "name", "typed_config"); err != nil {
		return nil, err
	}
	switch ts.GetTypedConfig().GetTypeUrl() {
	case rawBufferType:
		return nil, nil
	case tlsContextType:
	default:
		return nil, fmt.Errorf("transport socket %q (%s) is not supported", ts.GetName(), ts.GetTypedConfig().GetTypeUrl())
	}
	ctx := &tlsv3.UpstreamTlsContext{}
	if err := decodeAny(ts.GetTypedConfig(), ctx); err != nil {
		return nil, err
	}
	if err := onlyFields(ctx, "sni", "common_tls_context"); err != nil {
		return nil, err
	}
	cfg := &tls.Config{ServerName: ctx.GetSni(), MinVersion: tls.VersionTLS12}
	common := ctx.GetCommonTlsContext()
	if common == nil {
		return cfg, nil
	}
	// ALPN is chosen by the transport from the cluster's HTTP protocol.
	if err := onlyFields(common, "validation_context", "alpn_protocols", "tls_certificates"); err != nil {
		return nil, err
	}
	certs, err := clientCertificates(common.GetTlsCertificates())
	if err != nil {
		return nil, err
	}
	cfg.Certificates = certs
	vc := common.GetValidationContext()
	if vc == nil {
		return cfg, nil
	}
	if err := onlyFields(vc, "trusted_ca"); err != nil {
		return nil, err
	}
	pem, err := dataSourceBytes(vc.GetTrustedCa())
	if err != nil {
		return nil, fmt.Errorf("trusted_ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("trusted_ca: no PEM certificates found")
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// clientCertificates reads the certificates presented to the upstream.
func clientCertificates(in []*tlsv3.TlsCertificate) ([]tls.Certificate, error) {
	var out []tls.Certificate
	for i, c := range in {
		if err := onlyFields(c, "certificate_chain", "private_key"); err != nil {
			return nil, err
		}
		chain, err := dataSourceBytes(c.GetCertificateChain())
		if err != nil {
			return nil, fmt.Errorf("tls_certificates[%d].certificate_chain: %w", i, err)
		}
		key, err := dataSourceBytes(c.GetPrivateKey())
		if err != nil {
			return nil, fmt.Errorf("tls_certificates[%d].private_key: %w", i, err)
		}
		pair, err := tls.X509KeyPair(chain, key)
		if err != nil {
			return nil, fmt.Errorf("tls_certificates[%d]: %w", i, err)
		}
		out = append(out, pair)
	}
	return out, nil
}

func dataSourceBytes(ds *core.DataSource) ([]byte, error) {
	if err := onlyFields(ds, "filename", "inline_bytes", "inline_string"); err != nil {
		return nil, err
	}
	switch s := ds.GetSpecifier().(type) {
	case *core.DataSource_Filename:
		b, err := os.ReadFile(s.Filename)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.Filename, err)
		}
		return b, nil
	case *core.DataSource_InlineBytes:
		return s.InlineBytes, nil
	case *core.DataSource_InlineString:
		return []byte(s.InlineString), nil
	}
	return nil, errors.New("empty data source")
}

// compileProtocolOptions reads HttpProtocolOptions: whether to speak HTTP/2 to
// the upstream, and the idle timeout of pooled connections.
func compileProtocolOptions(opts map[string]*anypb.Any) (h2 bool, idle time.Duration, err error) {
	idle = defaultUpstreamIdle
	for key, a := range opts {
		if key != httpProtocolOptionsKey {
			return false, 0, fmt.Errorf("typed_extension_protocol_options[%q] is not supported", key)
		}
		po := &httpopts.HttpProtocolOptions{}
		if err := decodeAny(a, po); err != nil {
			return false, 0, err
		}
		if err := onlyFields(po, "explicit_http_config", "common_http_protocol_options"); err != nil {
			return false, 0, err
		}
		if common := po.GetCommonHttpProtocolOptions(); common != nil {
			if err := onlyFields(common, "idle_timeout"); err != nil {
				return false, 0, err
			}
			if common.GetIdleTimeout() != nil {
				if idle, err = duration(common.GetIdleTimeout()); err != nil {
					return false, 0, fmt.Errorf("idle_timeout: %w", err)
				}
			}
		}
		explicit := po.GetExplicitHttpConfig()
		if explicit == nil {
			return false, 0, errors.New("HttpProtocolOptions: only explicit_http_config is supported")
		}
		switch {
		case explicit.GetHttp2ProtocolOptions() != nil:
			if err := onlyFields(explicit.GetHttp2ProtocolOptions()); err != nil {
				return false, 0, err
			}
			h2 = true
		case explicit.GetHttpProtocolOptions() != nil:
			if err := onlyFields(explicit.GetHttpProtocolOptions()); err != nil {
				return false, 0, err
			}
		default:
			return false, 0, errors.New("HttpProtocolOptions: only HTTP/1.1 and HTTP/2 are supported")
		}
	}
	return h2, idle, nil
}

// sameDefinition reports whether a cluster can keep its pool across an update.
func (c *upstreamCluster) sameDefinition(def *clusterv3.Cluster) bool {
	return proto.Equal(c.def, def)
}

// sideRequest sends a request the proxy makes of its own accord (a mirror,
// a JWKS fetch, an authorization check) to one of the cluster's routable
// endpoints: no retries, no statistics of the routed traffic.
func (c *upstreamCluster) sideRequest(r *http.Request, body upstream.Body, target, host string, deadline time.Time) (*http.Response, error) {
	ep := c.pick(0, false)
	if ep == nil {
		return nil, errors.New(msgNoHealthyUpstream)
	}
	resp, err := c.client.RoundTrip(r, body, ep.addr, target, host, deadline)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", ep.addr, err)
	}
	return resp, nil
}
