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
	"maps"
	"slices"
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

// Snapshot is what one proxy is served. Each resource type has its own
// version, a hash of its resources, so that a State-of-the-World client is
// sent again only the types that changed: an endpoint change sends
// endpoints, not listeners, routes and clusters.
type Snapshot struct {
	Proxy string `json:"proxy"`
	// Version hashes the versions of all types: it changes when any does.
	Version   string                      `json:"version"`
	Versions  map[string]string           `json:"versions"` // by type URL
	Resources map[string][]types.Resource `json:"-"`
	// Restored is true while the snapshot is the one read from disk at start.
	Restored bool `json:"restored"`
	// hashes are each resource's content hash, for the next snapshot.
	hashes map[types.Resource]resourceHash
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

// Set serves resources to a proxy. Versions are hashes of the content, so
// identical input yields identical versions and no push. A snapshot that
// is not consistent is refused and the previous one stays.
func (s *Server) Set(ctx context.Context, proxy string, resources map[string][]types.Resource) (string, error) {
	s.mu.Lock()
	prev := s.snapshots[proxy]
	s.mu.Unlock()
	snap, err := newSnapshot(proxy, resources, prev)
	if err != nil {
		return "", err
	}
	version := snap.Version
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.snapshots[proxy]; ok && cur.Version == version {
		cur.Restored = false
		s.snapshots[proxy] = cur
		return version, nil
	}
	if err := s.setLocked(ctx, snap); err != nil {
		return "", err
	}
	if err := s.save(s.snapshots[proxy]); err != nil {
		// Serving goes on; only a restart would miss this snapshot.
		s.log.Error("could not persist snapshot", "proxy", proxy, "err", err)
	}
	return version, nil
}

// newSnapshot versions resources, each type on its own. Each resource's
// hash is taken from prev when prev holds the very same resource (an
// endpoint change passes the rest on untouched), so only what changed is
// marshalled and hashed again.
func newSnapshot(proxy string, resources map[string][]types.Resource, prev Snapshot) (Snapshot, error) {
	snap := Snapshot{Proxy: proxy, Versions: map[string]string{}, Resources: resources, hashes: map[types.Resource]resourceHash{}}
	for t, rs := range resources {
		v, err := versionOf(t, rs, prev.hashes, snap.hashes)
		if err != nil {
			return Snapshot{}, fmt.Errorf("proxy %s: %w", proxy, err)
		}
		snap.Versions[t] = v
	}
	snap.Version = overallVersion(snap.Versions)
	return snap, nil
}

func (s *Server) setLocked(ctx context.Context, snap Snapshot) error {
	cs := &cachev3.Snapshot{}
	for t, rs := range snap.Resources {
		i := cachev3.GetResponseType(t)
		if i == types.UnknownType {
			return fmt.Errorf("proxy %s: unknown resource type %s", snap.Proxy, t)
		}
		cs.Resources[i] = cachev3.NewResources(snap.Versions[t], rs)
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

// Answers returns the ACKs and NACKs every client sent so far, by type URL.
func (s *Server) Answers() map[string]Answers { return s.clients.answerCounts() }

// ContentVersion hashes one type's resources: the same resources give the
// same version, always (deterministic protobuf, in the given order, which
// the translator sorts).
func ContentVersion(typeURL string, resources []types.Resource) (string, error) {
	return versionOf(typeURL, resources, nil, nil)
}

type resourceHash [sha256.Size]byte

// versionOf hashes the hashes of resources, each of its deterministic
// encoding: from known when it holds the resource, recorded in seen when
// seen is not nil.
func versionOf(typeURL string, resources []types.Resource, known, seen map[types.Resource]resourceHash) (string, error) {
	h := sha256.New()
	h.Write([]byte(typeURL))
	for _, r := range resources {
		rh, ok := known[r]
		if !ok {
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
			if err != nil {
				return "", fmt.Errorf("hashing %s: %w", typeURL, err)
			}
			rh = sha256.Sum256(b)
		}
		if seen != nil {
			seen[r] = rh
		}
		h.Write(rh[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// overallVersion hashes the per-type versions, in type-URL order.
func overallVersion(versions map[string]string) string {
	h := sha256.New()
	for _, t := range slices.Sorted(maps.Keys(versions)) {
		h.Write([]byte(t + "=" + versions[t] + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
