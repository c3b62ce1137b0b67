// Package server serves translated Envoy resources over ADS (State of the
// World and delta) from go-control-plane's snapshot cache, one snapshot per
// proxy. It knows nothing of Gluon's IR: it takes resources by type URL.
// The last good snapshot of each proxy is written to disk and restored on
// start, before any config source is read.
package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Server owns the snapshot cache and the ADS service.
type Server struct {
	cache    cachev3.SnapshotCache
	stateDir string
	sealer   Sealer // nil: snapshots are saved as they are (still 0600)
	log      *slog.Logger
	clients  *clients

	mu        sync.Mutex
	snapshots map[string]Snapshot // proxy → last set snapshot
}

// Snapshot is what one proxy is served.
type Snapshot struct {
	Proxy     string                      `json:"proxy"`
	Version   string                      `json:"version"`
	Resources map[string][]types.Resource `json:"-"`
	// Restored is true while the snapshot is the one read from disk at start.
	Restored bool `json:"restored"`
}

// New returns a server that persists snapshots under stateDir (none if empty).
func New(stateDir string, log *slog.Logger) *Server {
	return &Server{
		cache:     cachev3.NewSnapshotCache(true, ProxyHash{}, nil),
		stateDir:  stateDir,
		log:       log,
		clients:   newClients(),
		snapshots: map[string]Snapshot{},
	}
}

// Register adds the aggregated discovery service (SotW and delta) to g,
// open to any client: for the in-process data plane's channel, or plain
// text on loopback.
func (s *Server) Register(ctx context.Context, g *grpc.Server) {
	s.register(ctx, g, nil)
}

// RegisterAuthenticated adds the aggregated discovery service to g, whose
// transport must verify client certificates (mutual TLS): each stream gets
// only the proxies its certificate names (see ProxiesOf); others are refused.
func (s *Server) RegisterAuthenticated(ctx context.Context, g *grpc.Server) {
	s.register(ctx, g, newNodeAuth())
}

func (s *Server) register(ctx context.Context, g *grpc.Server, auth *nodeAuth) {
	srv := serverv3.NewServer(ctx, s.cache, s.clients.callbacks(auth))
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(g, srv)
}

// Set serves resources to a proxy. The version is a hash of the content, so
// identical input yields the identical version and no push. A snapshot that
// is not consistent is refused and the previous one stays.
func (s *Server) Set(ctx context.Context, proxy string, resources map[string][]types.Resource) (string, error) {
	version, err := contentVersion(resources)
	if err != nil {
		return "", fmt.Errorf("proxy %s: %w", proxy, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.snapshots[proxy]; ok && cur.Version == version {
		cur.Restored = false
		s.snapshots[proxy] = cur
		return version, nil
	}
	if err := s.setLocked(ctx, Snapshot{Proxy: proxy, Version: version, Resources: resources}); err != nil {
		return "", err
	}
	if err := s.save(s.snapshots[proxy]); err != nil {
		// Serving goes on; only a restart would miss this snapshot.
		s.log.Error("could not persist snapshot", "proxy", proxy, "err", err)
	}
	return version, nil
}

func (s *Server) setLocked(ctx context.Context, snap Snapshot) error {
	cs, err := cachev3.NewSnapshot(snap.Version, snap.Resources)
	if err != nil {
		return fmt.Errorf("proxy %s: %w", snap.Proxy, err)
	}
	if err := cs.Consistent(); err != nil {
		return fmt.Errorf("proxy %s: inconsistent snapshot refused: %w", snap.Proxy, err)
	}
	if err := s.cache.SetSnapshot(ctx, snap.Proxy, cs); err != nil {
		return fmt.Errorf("proxy %s: %w", snap.Proxy, err)
	}
	s.snapshots[snap.Proxy] = snap
	return nil
}

// Snapshots returns the snapshots being served, sorted by proxy.
func (s *Server) Snapshots() []Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Snapshot, 0, len(s.snapshots))
	for _, snap := range s.snapshots {
		out = append(out, snap)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Proxy < out[j].Proxy })
	return out
}

// Clients returns the xDS clients connected now and what they acknowledged.
func (s *Server) Clients() []Client { return s.clients.list() }

// contentVersion hashes every resource in type-URL order.
func contentVersion(resources map[string][]types.Resource) (string, error) {
	h := sha256.New()
	typeURLs := make([]string, 0, len(resources))
	for t := range resources {
		typeURLs = append(typeURLs, t)
	}
	sort.Strings(typeURLs)
	for _, t := range typeURLs {
		h.Write([]byte(t))
		for _, r := range resources[t] {
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
			if err != nil {
				return "", fmt.Errorf("hashing %s: %w", t, err)
			}
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
