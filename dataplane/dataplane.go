// Package dataplane is Gluon's embedded, Envoy-compatible data plane: an ADS
// (State-of-the-World) client that proxies HTTP according to the listeners,
// routes, clusters and endpoints it is served. It ACKs what it applies, NACKs
// what it cannot honour exactly as Envoy would, and keeps serving the last
// complete config meanwhile.
package dataplane

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"sync"
	"sync/atomic"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gluon-gateway/gluon/dataplane/internal/guard"
)

// Options configure a DataPlane.
type Options struct {
	XDSAddress string // host:port of the ADS server, or a gRPC target when Dialer is set
	NodeID     string // Envoy node.id
	Proxy      string // proxy name; sent as node.cluster and as node.metadata "role"
	Logger     *slog.Logger
	// TLS, when set, secures the ADS stream (with a client certificate for
	// a control plane that requires mutual TLS); nil is plain text.
	TLS *tls.Config
	// Dialer, when set, makes the ADS connection (an in-process channel).
	Dialer func(ctx context.Context, addr string) (net.Conn, error)
	// NoStats turns the statistics off: nothing is counted per request.
	NoStats bool
}

// Status is a point-in-time view of the xDS state, for an admin page.
type Status struct {
	Connected bool              // an ADS stream is up and has delivered a response
	Ready     bool              // a complete config has been applied
	Versions  map[string]string // type URL → last accepted version
	LastNACK  *NACK             // the last rejection; cleared once its type is accepted again
	Mirrors   MirrorStats       // request mirroring (shadowing) counters
	// Panics counts goroutines (a connection's, a mirror's) that panicked
	// and were ended alone, the process going on.
	Panics uint64
	// Upstreams are the endpoints of the clusters that check health
	// (actively or by outlier detection): healthy, unhealthy or ejected.
	Upstreams []ClusterHealth
}

// NACK describes a rejected xDS update.
type NACK struct {
	TypeURL string
	Version string // the rejected version
	Error   string
	Time    time.Time
}

// DataPlane is the embedded data plane. Create it with New, then call Run once.
type DataPlane struct {
	opts    Options
	log     *slog.Logger
	lm      *listenerManager
	state   *state
	mirrors *mirrorer
	stats   *stats
	panics  atomic.Uint64

	ready     chan struct{}
	readyOnce sync.Once

	mu     sync.Mutex
	status Status
}

// New returns a data plane; nothing happens until Run.
func New(opts Options) *DataPlane {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "dataplane", "proxy", opts.Proxy)
	d := &DataPlane{
		opts:   opts,
		log:    log,
		ready:  make(chan struct{}),
		status: Status{Versions: map[string]string{}},
	}
	guard := guard.Guard{Log: log, Count: &d.panics}
	d.lm = newListenerManager(guard)
	d.mirrors = newMirrorer(guard, maxMirrorsInFlight)
	if !opts.NoStats {
		d.stats = newStats()
		d.stats.cxActive = d.lm.activeConnections
	}
	d.state = newState(log, d.lm, d.mirrors, d.stats)
	return d
}

// Run connects to the ADS server (reconnecting with back-off, forever) and
// serves the listeners it is given. It returns when ctx is cancelled, after
// draining listeners so that in-flight requests finish.
func (d *DataPlane) Run(ctx context.Context) error {
	creds := insecure.NewCredentials()
	if d.opts.TLS != nil {
		creds = credentials.NewTLS(d.opts.TLS)
	}
	dialOpts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if d.opts.Dialer != nil {
		dialOpts = append(dialOpts, grpc.WithContextDialer(d.opts.Dialer))
	}
	conn, err := grpc.NewClient(d.opts.XDSAddress, append(dialOpts,
		// gRPC's own reconnect back-off defaults to two minutes; the data
		// plane must find a restarted control plane within about a second.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: time.Second,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)),
	)...)
	if err != nil {
		return fmt.Errorf("dataplane: xds client for %q: %w", d.opts.XDSAddress, err)
	}
	defer conn.Close()

	newXDSClient(d, d.node()).run(ctx, conn)

	drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	d.lm.shutdown(drainCtx)
	// Mirrors started by the drained requests stop before their clusters go.
	d.mirrors.close()
	d.state.close()
	return nil
}

func (d *DataPlane) node() *core.Node {
	return &core.Node{
		Id:            d.opts.NodeID,
		Cluster:       d.opts.Proxy,
		UserAgentName: "gluon-dataplane",
		Metadata: &structpb.Struct{Fields: map[string]*structpb.Value{
			"role": structpb.NewStringValue(d.opts.Proxy),
		}},
	}
}

// Ready is closed once the first complete config is applied and its
// listeners are bound.
func (d *DataPlane) Ready() <-chan struct{} { return d.ready }

// Status reports the last accepted version per type URL and the last NACK.
func (d *DataPlane) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.status
	st.Versions = maps.Clone(d.status.Versions)
	st.Mirrors = d.mirrors.stats()
	st.Panics = d.panics.Load()
	st.Upstreams = d.state.healthReports()
	if st.LastNACK != nil {
		n := *st.LastNACK
		st.LastNACK = &n
	}
	return st
}

func (d *DataPlane) setConnected(c bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status.Connected = c
}

func (d *DataPlane) recordAccept(typeURL, version string, complete bool) {
	d.mu.Lock()
	d.status.Versions[typeURL] = version
	if d.status.LastNACK != nil && d.status.LastNACK.TypeURL == typeURL {
		d.status.LastNACK = nil
	}
	if complete {
		d.status.Ready = true
	}
	d.mu.Unlock()
	d.log.Debug("xds update accepted", "type", typeURL, "version", version, "complete", complete)
	if complete {
		d.readyOnce.Do(func() {
			d.log.Info("data plane ready")
			close(d.ready)
		})
	}
}

// recordPartial notes an update applied but for resources it NACKed: the
// data plane may now be complete (ready) though the NACK stands.
func (d *DataPlane) recordPartial(complete bool) {
	if !complete {
		return
	}
	d.mu.Lock()
	d.status.Ready = true
	d.mu.Unlock()
	d.readyOnce.Do(func() { close(d.ready) })
}

func (d *DataPlane) recordNACK(typeURL, version string, err error) {
	d.mu.Lock()
	d.status.LastNACK = &NACK{TypeURL: typeURL, Version: version, Error: err.Error(), Time: time.Now()}
	d.mu.Unlock()
	d.log.Warn("xds update rejected", "type", typeURL, "version", version, "error", err)
}
