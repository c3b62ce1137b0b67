package dataplane

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
)

const (
	tcpProxyType = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
	// defaultTCPIdle is Envoy's tcp_proxy idle_timeout.
	defaultTCPIdle = time.Hour
	// sniPeekTimeout bounds waiting for a ClientHello, as Envoy's listener
	// filter timeout; a client that sends none goes to the default chain.
	sniPeekTimeout = 5 * time.Second
)

// tcpChain is a compiled tcp_proxy filter chain.
type tcpChain struct {
	name        string
	serverNames []string
	weighted    []weightedCluster
	total       uint32
	idle        time.Duration
}

// isTCPChain reports whether a filter chain's network filter is tcp_proxy.
func isTCPChain(fc *listenerv3.FilterChain) bool {
	fs := fc.GetFilters()
	return len(fs) == 1 && fs[0].GetTypedConfig().GetTypeUrl() == tcpProxyType
}

func compileTCPChain(fc *listenerv3.FilterChain) (*tcpChain, error) {
	if err := onlyFields(fc, "filters", "name", "metadata", "filter_chain_match"); err != nil {
		return nil, err
	}
	if m := fc.GetFilterChainMatch(); m != nil {
		if err := onlyFields(m, "server_names"); err != nil {
			return nil, fmt.Errorf("filter_chain_match: %w", err)
		}
	}
	if !isTCPChain(fc) {
		return nil, errors.New("a TCP listener's chains each have one tcp_proxy filter")
	}
	p := &tcpproxyv3.TcpProxy{}
	if err := decodeAny(fc.GetFilters()[0].GetTypedConfig(), p); err != nil {
		return nil, err
	}
	if err := onlyFields(p, "stat_prefix", "cluster", "weighted_clusters", "idle_timeout"); err != nil {
		return nil, err
	}
	c := &tcpChain{name: fc.GetName(), serverNames: fc.GetFilterChainMatch().GetServerNames(), idle: defaultTCPIdle}
	switch cs := p.GetClusterSpecifier().(type) {
	case *tcpproxyv3.TcpProxy_Cluster:
		c.weighted, c.total = []weightedCluster{{name: cs.Cluster, weight: 1}}, 1
	case *tcpproxyv3.TcpProxy_WeightedClusters:
		for _, w := range cs.WeightedClusters.GetClusters() {
			if err := onlyFields(w, "name", "weight"); err != nil {
				return nil, err
			}
			c.weighted = append(c.weighted, weightedCluster{name: w.GetName(), weight: w.GetWeight()})
			c.total += w.GetWeight()
		}
		if c.total == 0 {
			return nil, errors.New("weighted_clusters: the weights add up to 0")
		}
	default:
		return nil, errors.New("tcp_proxy needs a cluster or weighted_clusters")
	}
	if t := p.GetIdleTimeout(); t != nil {
		d, err := duration(t)
		if err != nil {
			return nil, fmt.Errorf("idle_timeout: %w", err)
		}
		c.idle = d // 0: none
	}
	return c, nil
}

func (c *tcpChain) pickCluster() string { return pickWeighted(c.weighted, c.total) }

// tcpServing is what a TCP listener serves now.
type tcpServing struct {
	chains   []*tcpChain
	clusters map[string]*upstreamCluster
	bySNI    bool // some chain is chosen by server name: read the ClientHello
}

func newTCPServing(chains []*tcpChain, clusters map[string]*upstreamCluster) *tcpServing {
	t := &tcpServing{chains: chains, clusters: clusters}
	for _, c := range chains {
		t.bySNI = t.bySNI || len(c.serverNames) > 0
	}
	return t
}

func (t *tcpServing) chainFor(sni string) *tcpChain {
	return bestChain(t.chains, func(c *tcpChain) []string { return c.serverNames }, sni)
}

// serveTCP accepts on a TCP listener.
func (m *listenerManager) serveTCP(b *boundListener) error {
	return m.acceptLoop(b, func(conn net.Conn) { m.serveTCPConn(b, conn) })
}

// serveTCPConn forwards one connection: to the chain its TLS server name
// selects (the TLS passes through untouched), or the default chain, then
// to an endpoint of one of that chain's clusters.
func (m *listenerManager) serveTCPConn(b *boundListener, conn net.Conn) {
	defer m.guard.Recover("tcp connection", conn, "remote", conn.RemoteAddr().String())
	defer conn.Close()
	serving := b.tcp.Load()
	sni, replay := "", []byte(nil)
	if serving.bySNI {
		sni, replay = peekSNI(conn)
	}
	chain := serving.chainFor(sni)
	if chain == nil {
		m.log.Debug("no tcp chain for the connection", "address", b.addr, "sni", sni)
		return
	}
	cl := serving.clusters[chain.pickCluster()]
	if cl == nil {
		return
	}
	release, err := cl.breakers.admit(context.Background())
	if err != nil {
		return
	}
	defer release()
	ep := cl.pick(0, false)
	if ep == nil {
		return
	}
	up, err := cl.dialTunnel(context.Background(), ep.addr)
	if err != nil {
		cl.observe(ep, 503)
		m.log.Debug("tcp upstream connect failed", "cluster", cl.name, "endpoint", ep.addr, "error", err)
		return
	}
	defer up.Close()
	cl.observe(ep, 200)
	if _, err := up.Write(replay); err != nil {
		return
	}
	pipe(conn, conn, up, up, chain.idle)
}

// errSNIRead stops the handshake that read the ClientHello.
var errSNIRead = errors.New("client hello read")

// peekSNI reads the TLS ClientHello's server name, as Envoy's TLS
// inspector does, and returns what it read, to be sent on as it came. A
// client that is not speaking TLS yields no name.
func peekSNI(conn net.Conn) (string, []byte) {
	rec := &recordingConn{Conn: conn}
	var sni string
	_ = conn.SetReadDeadline(time.Now().Add(sniPeekTimeout))
	_ = tls.Server(rec, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		sni = h.ServerName
		return nil, errSNIRead
	}}).Handshake()
	_ = conn.SetReadDeadline(time.Time{})
	return sni, rec.read.Bytes()
}

// recordingConn keeps what is read and writes nothing: the handshake that
// peeks must not answer the client (its alert would end the connection).
type recordingConn struct {
	net.Conn
	read bytes.Buffer
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Write(p[:n])
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) { return len(p), nil }
