package dataplane

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// state holds the latest accepted resources of each type and turns them into
// served configs. It is used by the xDS goroutine only.
type state struct {
	log     *slog.Logger
	ext     *extensions
	lm      *listenerManager
	mirrors *mirrorer // shared by every config's routers

	// Latest accepted resources. Maps are replaced, never mutated, once
	// handed to routers, so requests read them without locks.
	clusters  map[string]*upstreamCluster // by cluster name
	listeners map[string]*listenerConfig  // by listener name
	routes    map[string]*routeTable      // by route configuration name
	clas      map[string]*endpointSet     // by ClusterLoadAssignment name
	haveCDS   bool
	haveLDS   bool
	// bound holds each accepted listener's HTTP filters compiled against
	// its route table, once that table is known. Binding happens whenever
	// either side changes, so that a bad per-route config NACKs the update
	// that brings it.
	bound map[*listenerConfig]*boundFilters
	// heldRDS names the route configurations of listeners whose address
	// could not be bound. They stay subscribed: a go-control-plane ADS
	// server answers an RDS request only when it names every route
	// configuration of the snapshot, and the listener may bind later.
	heldRDS []string

	// active is the cluster map of the served config; owned lists every
	// cluster created and not retired yet.
	active map[string]*upstreamCluster
	owned  map[*upstreamCluster]bool
	// secrets are the SDS secrets received, by name; TLS handshakes read
	// them live.
	secrets map[string]*sdsSecret
	stats   *stats
	// tracers export spans, one per collector that some listener names.
	tracers *tracers
	// watched are the clusters with health checks or outlier detection,
	// sorted by name: what Status reports, read from other goroutines.
	watched atomic.Pointer[[]*upstreamCluster]
}

// healthReports are the endpoint health of the watched clusters.
func (s *state) healthReports() []ClusterHealth {
	var out []ClusterHealth
	if w := s.watched.Load(); w != nil {
		for _, c := range *w {
			out = append(out, c.healthReport())
		}
	}
	return out
}

func (s *state) watchHealth() {
	var w []*upstreamCluster
	for _, name := range slices.Sorted(maps.Keys(s.clusters)) {
		if c := s.clusters[name]; c.healthCheck != nil || c.outlier != nil {
			w = append(w, c)
		}
	}
	s.watched.Store(&w)
}

func newState(log *slog.Logger, lm *listenerManager, mirrors *mirrorer, st *stats) *state {
	return &state{
		log: log, ext: knownExtensions(log), lm: lm, mirrors: mirrors, stats: st,
		routes: map[string]*routeTable{}, clas: map[string]*endpointSet{}, bound: map[*listenerConfig]*boundFilters{},
		owned: map[*upstreamCluster]bool{}, secrets: map[string]*sdsSecret{}, tracers: newTracers(log),
	}
}

// apply validates and commits one DiscoveryResponse's resources. An error
// means the update is rejected as a whole and nothing changed, except a
// partialUpdateError: the rest of the update was applied. It reports
// whether a complete config is now being served.
func (s *state) apply(typeURL string, resources []*anypb.Any) (bool, error) {
	var err error
	switch typeURL {
	case resourcev3.ClusterType:
		err = s.applyClusters(resources)
	case resourcev3.EndpointType:
		err = s.applyEndpoints(resources)
	case resourcev3.ListenerType:
		err = s.applyListeners(resources)
	case resourcev3.RouteType:
		err = s.applyRoutes(resources)
	case resourcev3.SecretType:
		err = s.applySecrets(resources)
	default:
		return false, fmt.Errorf("unexpected resource type %s", typeURL)
	}
	if pe := (*partialUpdateError)(nil); errors.As(err, &pe) {
		return s.build(), err
	}
	if err != nil {
		return false, err
	}
	return s.build(), nil
}

func (s *state) applyClusters(resources []*anypb.Any) error {
	next := make(map[string]*upstreamCluster, len(resources))
	var fresh []*upstreamCluster
	for _, a := range resources {
		c := &clusterv3.Cluster{}
		if err := decodeAny(a, c); err != nil {
			return err
		}
		if _, dup := next[c.GetName()]; dup {
			return fmt.Errorf("cluster %q: duplicate name", c.GetName())
		}
		if old := s.clusters[c.GetName()]; old != nil && old.sameDefinition(c) {
			next[c.GetName()] = old // keep its pool: connections are reused
			continue
		}
		uc, err := compileCluster(c, s.stats.connections(c.GetName()))
		if err != nil {
			return fmt.Errorf("cluster %q: %w", c.GetName(), err)
		}
		next[c.GetName()] = uc
		fresh = append(fresh, uc)
	}

	var dns []*upstreamCluster
	for _, uc := range fresh {
		s.owned[uc] = true
		uc.stats = s.stats.cluster(uc.name)
		if uc.healthCheck != nil {
			uc.startHealthChecks(uc.ctx, s.log)
		}
		switch {
		case uc.dnsTargets != nil:
			dns = append(dns, uc)
		case uc.eds:
			if set, ok := s.clas[uc.edsName]; ok {
				uc.setEndpoints(set)
			}
		}
	}
	startAllDNS(dns, s.log)
	s.clusters, s.haveCDS = next, true
	s.watchHealth()
	s.retireUnused()
	// Forget assignments no cluster uses any more, as an EDS unsubscription does.
	wanted := s.edsNames()
	for name := range s.clas {
		if !slices.Contains(wanted, name) {
			delete(s.clas, name)
		}
	}
	return nil
}

func (s *state) applyEndpoints(resources []*anypb.Any) error {
	updates := make(map[string]*endpointSet, len(resources))
	for _, a := range resources {
		cla := &endpointv3.ClusterLoadAssignment{}
		if err := decodeAny(a, cla); err != nil {
			return err
		}
		les, err := compileLoadAssignment(cla, false)
		if err != nil {
			return fmt.Errorf("cluster load assignment %q: %w", cla.GetClusterName(), err)
		}
		updates[cla.GetClusterName()] = staticEndpoints(les)
	}
	wanted := s.edsNames()
	for name, set := range updates {
		if slices.Contains(wanted, name) {
			s.clas[name] = set
		}
	}
	// Endpoint changes apply to clusters immediately, as in Envoy.
	for _, uc := range s.clusters {
		if set, ok := updates[uc.edsName]; ok && uc.eds {
			uc.setEndpoints(set)
		}
	}
	return nil
}

func (s *state) applyListeners(resources []*anypb.Any) error {
	next := make(map[string]*listenerConfig, len(resources))
	bound := make(map[*listenerConfig]*boundFilters, len(resources))
	addrs := make(map[string]string, len(resources)) // address → listener name
	for _, a := range resources {
		l := &listenerv3.Listener{}
		if err := decodeAny(a, l); err != nil {
			return err
		}
		if _, dup := next[l.GetName()]; dup {
			return fmt.Errorf("listener %q: duplicate name", l.GetName())
		}
		lc, err := compileListener(l, s.ext)
		if err != nil {
			return fmt.Errorf("listener %q: %w", l.GetName(), err)
		}
		for _, hc := range lc.hcms() {
			if rt := s.tableOf(hc); rt != nil {
				b, err := hc.bind(rt)
				if err != nil {
					return fmt.Errorf("listener %q: route configuration %q: %w", hc.name, rt.name, err)
				}
				bound[hc] = b
			}
		}
		if other, dup := addrs[lc.addr]; dup {
			return fmt.Errorf("listeners %q and %q both use address %s", other, l.GetName(), lc.addr)
		}
		next[l.GetName()], addrs[lc.addr] = lc, l.GetName()
	}
	want := make(map[string]bool, len(addrs))
	for addr := range addrs {
		want[addr] = true
	}
	held := map[string]*listenerConfig{}
	unbound := s.keepOrDropUnbound(next, bound, held, s.lm.reserve(want))
	s.listeners, s.bound, s.haveLDS = next, bound, true
	s.heldRDS = nil
	for _, lc := range held {
		for _, hc := range lc.hcms() {
			if hc.rdsName != "" && !slices.Contains(s.heldRDS, hc.rdsName) {
				s.heldRDS = append(s.heldRDS, hc.rdsName)
			}
		}
	}
	wanted := s.rdsNames()
	for name := range s.routes {
		if !slices.Contains(wanted, name) {
			delete(s.routes, name)
		}
	}
	// Forget secrets no listener names, as an SDS unsubscription does.
	wantedSecrets := s.sdsNames()
	for name := range s.secrets {
		if !slices.Contains(wantedSecrets, name) {
			delete(s.secrets, name)
		}
	}
	if unbound != nil {
		return &partialUpdateError{err: unbound}
	}
	return nil
}

// keepOrDropUnbound takes the listeners whose address could not be bound
// out of next: one that served before under that name and address keeps
// its previous version, as Envoy keeps a listener whose update failed. The
// ones left out go to held; it returns why each was left out.
func (s *state) keepOrDropUnbound(next map[string]*listenerConfig, bound map[*listenerConfig]*boundFilters, held map[string]*listenerConfig, failed map[string]error) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(next)) {
		lc := next[name]
		err, ok := failed[lc.addr]
		if !ok {
			continue
		}
		errs = append(errs, fmt.Errorf("listener %q: %w", name, err))
		held[name] = lc
		delete(next, name)
		for _, hc := range lc.hcms() {
			delete(bound, hc)
		}
		if old := s.listeners[name]; old != nil && old.addr == lc.addr && s.allBound(old) {
			next[name] = old
			for _, hc := range old.hcms() {
				bound[hc] = s.bound[hc]
			}
		}
	}
	return errors.Join(errs...)
}

// allBound reports whether every connection manager of lc has its routes.
func (s *state) allBound(lc *listenerConfig) bool {
	for _, hc := range lc.hcms() {
		if s.bound[hc] == nil {
			return false
		}
	}
	return true
}

// partialUpdateError is an update applied but for some resources, which it
// names: it is NACKed so that the control plane learns which, while the
// rest serves.
type partialUpdateError struct{ err error }

func (e *partialUpdateError) Error() string { return e.err.Error() }
func (e *partialUpdateError) Unwrap() error { return e.err }

func (s *state) applyRoutes(resources []*anypb.Any) error {
	updates := make(map[string]*routeTable, len(resources))
	bound := map[*listenerConfig]*boundFilters{}
	for _, a := range resources {
		rc := &routev3.RouteConfiguration{}
		if err := decodeAny(a, rc); err != nil {
			return err
		}
		rt, err := compileRouteConfig(rc, s.ext)
		if err != nil {
			return fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
		}
		for _, lc := range s.listenersUsing(rc.GetName()) {
			b, err := lc.bind(rt)
			if err != nil {
				return fmt.Errorf("route configuration %q: listener %q: %w", rc.GetName(), lc.name, err)
			}
			bound[lc] = b
		}
		updates[rc.GetName()] = rt
	}
	wanted := s.rdsNames()
	for name, rt := range updates {
		if slices.Contains(wanted, name) {
			s.routes[name] = rt
		}
	}
	maps.Copy(s.bound, bound)
	return nil
}

// tableOf returns the route table a listener serves, nil while its RDS
// resource has not arrived.
func (s *state) tableOf(lc *listenerConfig) *routeTable {
	if lc.inline != nil {
		return lc.inline
	}
	return s.routes[lc.rdsName]
}

// listenersUsing returns the accepted listeners fetching route configuration
// name, sorted by name so that errors are deterministic.
func (s *state) listenersUsing(name string) []*listenerConfig {
	var out []*listenerConfig
	for _, lc := range s.listeners {
		for _, hc := range lc.hcms() {
			if hc.rdsName == name {
				out = append(out, hc)
			}
		}
	}
	slices.SortFunc(out, func(a, b *listenerConfig) int { return strings.Compare(a.name, b.name) })
	return out
}

// edsNames are the ClusterLoadAssignments to subscribe to, sorted.
func (s *state) edsNames() []string {
	var names []string
	for _, uc := range s.clusters {
		if uc.eds && !slices.Contains(names, uc.edsName) {
			names = append(names, uc.edsName)
		}
	}
	slices.Sort(names)
	return names
}

// rdsNames are the RouteConfigurations to subscribe to, sorted.
func (s *state) rdsNames() []string {
	names := slices.Clone(s.heldRDS)
	for _, lc := range s.listeners {
		for _, hc := range lc.hcms() {
			if hc.rdsName != "" && !slices.Contains(names, hc.rdsName) {
				names = append(names, hc.rdsName)
			}
		}
	}
	slices.Sort(names)
	return names
}

// build serves the accepted resources if they form a complete config: both
// CDS and LDS received, every cluster warm (endpoints known) and every route
// configuration a listener names present. Otherwise the previous config keeps
// serving, as during Envoy's warming.
func (s *state) build() bool {
	if !s.haveCDS || !s.haveLDS {
		return false
	}
	for _, uc := range s.clusters {
		if !uc.warm.Load() {
			return false
		}
	}
	for _, lc := range s.listeners {
		if !s.allBound(lc) {
			return false // its route configuration has not arrived
		}
	}
	if !s.secretsReady() {
		return false
	}
	clusters := s.routableClusters()
	served := make(map[string]servedListener, len(s.listeners))
	for _, lc := range s.listeners {
		served[lc.addr] = s.serve(lc, clusters)
	}
	s.lm.activate(served)
	s.ext.mcpSessions.Publish()
	s.tracers.serve(clusters, s.tracersUsed())
	s.active = clusters
	s.retireUnused()
	return true
}

// serve is what a listener serves: its connection manager, or its TLS
// chains, each with its own.
func (s *state) serve(lc *listenerConfig, clusters map[string]*upstreamCluster) servedListener {
	if lc.tcp != nil {
		return servedListener{tcp: newTCPServing(lc.tcp, clusters)}
	}
	if lc.chains == nil {
		return servedListener{handler: s.newHCM(lc, clusters)}
	}
	t := &tlsServing{}
	for _, c := range lc.chains {
		t.chains = append(t.chains, &servedChain{name: c.name, tls: c.tls, cert: s.secrets[c.tls.certSecret],
			ca: s.secrets[c.tls.caSecret], handler: s.newHCM(c, clusters)})
	}
	return servedListener{tls: t}
}

// newHCM serves one connection manager of the accepted config.
func (s *state) newHCM(lc *listenerConfig, clusters map[string]*upstreamCluster) *hcm {
	var t *tracer
	if lc.tracing != nil {
		t = s.tracers.get(lc.tracing.key)
	}
	return newHCM(lc, s.bound[lc], clusters, s.mirrors, s.log, s.stats.connectionManager(lc.statPrefix), t)
}

// tracersUsed are the collectors the accepted listeners send spans to.
func (s *state) tracersUsed() map[tracerKey]bool {
	used := map[tracerKey]bool{}
	for _, lc := range s.listeners {
		for _, hc := range lc.hcms() {
			if hc.tracing != nil {
				used[hc.tracing.key] = true
			}
		}
	}
	return used
}

// routableClusters is the accepted clusters plus any served cluster that CDS
// removed while a route still sends to it. go-control-plane delivers CDS
// before RDS, so a route update dropping a cluster lands just after the
// cluster's removal; in between, requests keep reaching the old cluster
// instead of failing (Envoy would answer 503).
func (s *state) routableClusters() map[string]*upstreamCluster {
	clusters, cloned := s.clusters, false
	for _, b := range s.bound {
		for _, name := range b.routes.clusters {
			old, served := s.active[name]
			if _, ok := clusters[name]; ok || !served {
				continue
			}
			if !cloned { // maps handed to routers are never mutated
				clusters, cloned = make(map[string]*upstreamCluster, len(s.clusters)+1), true
				maps.Copy(clusters, s.clusters)
			}
			clusters[name] = old
		}
	}
	return clusters
}

// retireUnused retires clusters that neither the accepted nor the served
// config uses.
func (s *state) retireUnused() {
	for uc := range s.owned {
		if s.clusters[uc.name] != uc && s.active[uc.name] != uc {
			uc.retire()
			delete(s.owned, uc)
		}
	}
}

// close retires every cluster; used once the data plane stops.
func (s *state) close() {
	s.tracers.close()
	for uc := range s.owned {
		uc.retire()
		delete(s.owned, uc)
	}
}

// decodeAny unpacks a resource and runs its generated validation, which
// rejects what Envoy's own proto validation would.
func decodeAny(a *anypb.Any, m proto.Message) error {
	if err := a.UnmarshalTo(m); err != nil {
		return fmt.Errorf("decoding %s: %w", a.GetTypeUrl(), err)
	}
	if v, ok := m.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("invalid %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
		}
	}
	return nil
}
