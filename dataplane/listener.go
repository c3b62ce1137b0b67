package dataplane

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
)

const hcmType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"

// listenerConfig is a compiled Listener: its address and the settings of its
// single HTTP connection manager.
type listenerConfig struct {
	name         string
	addr         string // host:port to bind; listeners are keyed by it
	stripPort    bool
	genRequestID bool
	// streamIdle and requestTimeout bound how long a request body may stall
	// and take in all (Envoy's stream_idle_timeout and request_timeout).
	streamIdle     time.Duration
	requestTimeout time.Duration
	normalize      pathNormalizing
	rdsName        string       // route configuration to fetch over RDS, or
	inline         *routeTable  // an inline route_config
	filters        []httpFilter // the non-terminal HTTP filters, in order
	// webSockets lets WebSocket upgrades through unless a route says no.
	webSockets bool
	// statPrefix names the connection manager's statistics.
	statPrefix string
	// accessLogs write a line per request.
	accessLogs []*accessLog
	// tracing sends spans of sampled requests to a collector; nil: none.
	tracing *tracingConfig
	// bufferLimit is per_connection_buffer_limit_bytes: the limit of
	// bodies filters buffer, unless a buffer filter set one; 0: theirs.
	bufferLimit int
	// chains are an HTTPS listener's filter chains, each a connection
	// manager of its own (its rdsName, filters) with how it terminates TLS.
	chains []*listenerConfig
	tls    *chainTLS // set on a chain
	// tcp are a TCP listener's chains (no connection manager at all).
	tcp []*tcpChain
}

func compileListener(l *listenerv3.Listener, ext *extensions) (*listenerConfig, error) {
	if err := onlyFields(l, "name", "address", "filter_chains", "stat_prefix", "traffic_direction",
		"per_connection_buffer_limit_bytes", "metadata", "listener_filters"); err != nil {
		return nil, err
	}
	host, port, err := socketAddress(l.GetAddress())
	if err != nil {
		return nil, fmt.Errorf("address: %w", err)
	}
	lc := &listenerConfig{name: l.GetName(), addr: net.JoinHostPort(host, strconv.FormatUint(uint64(port), 10)),
		bufferLimit: int(l.GetPerConnectionBufferLimitBytes().GetValue())}
	if err := checkListenerFilters(l.GetListenerFilters()); err != nil {
		return nil, err
	}
	fcs := l.GetFilterChains()
	if len(fcs) == 0 {
		return nil, errors.New("no filter chain")
	}
	if isTCPChain(fcs[0]) {
		for i, fc := range fcs {
			c, err := compileTCPChain(fc)
			if err != nil {
				return nil, fmt.Errorf("filter chain %d %q: %w", i, fc.GetName(), err)
			}
			lc.tcp = append(lc.tcp, c)
		}
		return lc, nil
	}
	if len(fcs) == 1 && fcs[0].GetTransportSocket() == nil {
		if err := onlyFields(fcs[0], "filters", "name", "metadata"); err != nil {
			return nil, err
		}
		return lc, lc.compileChainHCM(fcs[0], ext)
	}
	// Several chains, or one with TLS: an HTTPS listener, a chain per
	// server-name set.
	for i, fc := range fcs {
		chain, err := lc.compileTLSChain(fc, ext)
		if err != nil {
			return nil, fmt.Errorf("filter chain %d %q: %w", i, fc.GetName(), err)
		}
		lc.chains = append(lc.chains, chain)
	}
	return lc, nil
}

// compileChainHCM compiles a filter chain's one network filter, the HTTP
// connection manager, into lc.
func (lc *listenerConfig) compileChainHCM(fc *listenerv3.FilterChain, ext *extensions) error {
	if len(fc.GetFilters()) != 1 {
		return fmt.Errorf("want exactly one network filter (%s), got %d", wellknown.HTTPConnectionManager, len(fc.GetFilters()))
	}
	nf := fc.GetFilters()[0]
	if err := onlyFields(nf, "name", "typed_config"); err != nil {
		return err
	}
	if nf.GetTypedConfig().GetTypeUrl() != hcmType {
		return fmt.Errorf("network filter %q (%s) is not supported, want %s", nf.GetName(), nf.GetTypedConfig().GetTypeUrl(), wellknown.HTTPConnectionManager)
	}
	hcm := &hcmv3.HttpConnectionManager{}
	if err := decodeAny(nf.GetTypedConfig(), hcm); err != nil {
		return err
	}
	if err := lc.compileHCM(hcm, ext); err != nil {
		return fmt.Errorf("%s: %w", wellknown.HTTPConnectionManager, err)
	}
	return nil
}

// hcms are the listener's HTTP connection managers: its own, or those of
// its TLS filter chains.
func (lc *listenerConfig) hcms() []*listenerConfig {
	switch {
	case lc.tcp != nil:
		return nil
	case lc.chains != nil:
		return lc.chains
	}
	return []*listenerConfig{lc}
}

func (lc *listenerConfig) compileHCM(hcm *hcmv3.HttpConnectionManager, ext *extensions) error {
	if err := onlyFields(hcm, "stat_prefix", "codec_type", "rds", "route_config", "http_filters",
		"strip_any_host_port", "generate_request_id", "use_remote_address", "stream_idle_timeout", "request_timeout",
		"normalize_path", "merge_slashes", "upgrade_configs", "access_log", "tracing"); err != nil {
		return err
	}
	logs, err := compileAccessLogs(hcm.GetAccessLog(), ext.logFiles)
	if err != nil {
		return err
	}
	lc.accessLogs = logs
	if lc.tracing, err = compileTracing(hcm.GetTracing()); err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	if lc.webSockets, err = compileListenerUpgrades(hcm.GetUpgradeConfigs()); err != nil {
		return err
	}
	lc.normalize = pathNormalizing{dots: hcm.GetNormalizePath().GetValue(), merge: hcm.GetMergeSlashes()}
	lc.statPrefix = hcm.GetStatPrefix()
	if err := lc.compileTimeouts(hcm); err != nil {
		return err
	}
	if hcm.GetCodecType() != hcmv3.HttpConnectionManager_AUTO {
		return fmt.Errorf("codec_type %v is not supported (only AUTO)", hcm.GetCodecType())
	}
	// Forwarding always appends X-Forwarded-For, i.e. behaves as an edge proxy.
	if ura := hcm.GetUseRemoteAddress(); ura != nil && !ura.GetValue() {
		return errors.New("use_remote_address false is not supported")
	}
	lc.stripPort = hcm.GetStripAnyHostPort()
	lc.genRequestID = hcm.GetGenerateRequestId() == nil || hcm.GetGenerateRequestId().GetValue()
	switch rs := hcm.GetRouteSpecifier().(type) {
	case *hcmv3.HttpConnectionManager_Rds:
		if err := onlyFields(rs.Rds, "config_source", "route_config_name"); err != nil {
			return err
		}
		if err := checkADSConfigSource(rs.Rds.GetConfigSource()); err != nil {
			return fmt.Errorf("rds.config_source: %w", err)
		}
		if rs.Rds.GetRouteConfigName() == "" {
			return errors.New("rds.route_config_name is empty")
		}
		lc.rdsName = rs.Rds.GetRouteConfigName()
	case *hcmv3.HttpConnectionManager_RouteConfig:
		rt, err := compileRouteConfig(rs.RouteConfig, ext)
		if err != nil {
			return fmt.Errorf("route_config: %w", err)
		}
		lc.inline = rt
	default:
		return errors.New("route specifier must be rds or route_config")
	}
	return lc.compileHTTPFilters(hcm.GetHttpFilters(), ext.httpFilters)
}

// compileHTTPFilters resolves each HTTP filter against the known filters, in
// the listener's order. Unknown filters are skipped only when is_optional, as
// in Envoy; otherwise the listener is rejected.
func (lc *listenerConfig) compileHTTPFilters(hfs []*hcmv3.HttpFilter, known []httpFilterDef) error {
	terminal := false
	for i, hf := range hfs {
		if err := onlyFields(hf, "name", "typed_config", "is_optional", "disabled"); err != nil {
			return fmt.Errorf("http filter %q: %w", hf.GetName(), err)
		}
		if terminal {
			return fmt.Errorf("http filter %q follows the terminal filter", hf.GetName())
		}
		def, ok := findHTTPFilter(known, hf)
		if !ok {
			if hf.GetIsOptional() {
				continue
			}
			return fmt.Errorf("http filter %q (%s) is not supported by the Gluon data plane", hf.GetName(), hf.GetTypedConfig().GetTypeUrl())
		}
		if hf.GetDisabled() && !def.disableable {
			return fmt.Errorf("http filter %q cannot be disabled by default in the Gluon data plane", hf.GetName())
		}
		f, err := def.compile(hf.GetName(), hf.GetTypedConfig())
		if err != nil {
			return fmt.Errorf("http filter %d %q: %w", i, hf.GetName(), err)
		}
		if hf.GetDisabled() {
			f.(interface{ disableByDefault() }).disableByDefault()
		}
		if def.terminal {
			terminal = true
		} else {
			lc.filters = append(lc.filters, f)
		}
	}
	if !terminal {
		return fmt.Errorf("no terminal http filter (%s)", wellknown.Router)
	}
	return nil
}

func findHTTPFilter(known []httpFilterDef, hf *hcmv3.HttpFilter) (httpFilterDef, bool) {
	for _, def := range known {
		if hf.GetTypedConfig() != nil && def.typeURL == hf.GetTypedConfig().GetTypeUrl() ||
			hf.GetTypedConfig() == nil && def.name == hf.GetName() {
			return def, true
		}
	}
	return httpFilterDef{}, false
}

// compileTimeouts reads the stream idle and request timeouts, with Envoy's
// defaults (5 minutes, and none); zero turns either off.
func (lc *listenerConfig) compileTimeouts(hcm *hcmv3.HttpConnectionManager) error {
	lc.streamIdle = defaultStreamIdleTimeout
	if t := hcm.GetStreamIdleTimeout(); t != nil {
		d, err := duration(t)
		if err != nil {
			return fmt.Errorf("stream_idle_timeout: %w", err)
		}
		lc.streamIdle = d
	}
	if t := hcm.GetRequestTimeout(); t != nil {
		d, err := duration(t)
		if err != nil {
			return fmt.Errorf("request_timeout: %w", err)
		}
		lc.requestTimeout = d
	}
	return nil
}
