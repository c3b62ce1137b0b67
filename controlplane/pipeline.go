// Package controlplane is the control plane's runtime: the pipeline that
// runs config snapshots and the function catalog through both translation
// stages into the xDS server, the targets function discovery polls, the
// admission check, and the /statusz document. Both binaries import it;
// cmd keeps flags and wiring.
package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/filesource"
	"github.com/gluon-gateway/gluon/api/vaultsource"
	"github.com/gluon-gateway/gluon/dataplane"
	"github.com/gluon-gateway/gluon/fds"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/gateway"
	"github.com/gluon-gateway/gluon/xds/ir"
	"github.com/gluon-gateway/gluon/xds/ratelimit"
	"github.com/gluon-gateway/gluon/xds/server"
	"github.com/gluon-gateway/gluon/xds/translator"
)

// Pipeline runs the latest config snapshot and function catalog through
// both translation stages into the xDS server, and keeps what /statusz shows.
type Pipeline struct {
	server  *server.Server
	catalog *functions.Catalog
	poller  *fds.Poller
	lead    discoveryLead
	jwks    *jwksProbe
	log     *slog.Logger
	// GatewayOptions say where this control plane serves the rate-limit
	// service, whose limits follow Settings (RateLimit, when set). Set
	// them before the first Apply.
	GatewayOptions gateway.Options
	RateLimit      *ratelimit.Service
	// OnReports, when set, receives every translation's verdicts (the
	// Kubernetes source writes them into status).
	OnReports func([]api.Report, functions.Snapshot, api.GatewayAPIStatus)

	// translateMu serialises translations: config changes and catalog
	// changes arrive from different goroutines.
	translateMu sync.Mutex
	source      *filesource.Snapshot
	// consul is what upstream discovery found in Consul, when it runs.
	consul *consulServices
	// vault is what Vault holds at the paths Secrets name; OnVaultPaths,
	// when set, is told of those paths after every config change.
	vault        map[string]vaultsource.Resolved
	OnVaultPaths func([]string)
	// OnSecrets, when set, is given the Secrets in force (Vault's values
	// filled in) at every translation: for what the control plane itself
	// authenticates with, such as a Consul ACL token. Set it before the
	// first Apply; it must not block.
	OnSecrets func([]*api.Secret)

	metrics *metrics

	mu      sync.Mutex
	reports []api.Report
	// owners says which Gateway each proxy's listener comes from.
	owners  map[string]map[string]api.Key
	errors  []string
	ready   bool
	proxies map[string]bool // proxies given a snapshot by the last apply

	// served is what each proxy was last served, under translateMu.
	served map[string]servedProxy
}

// New returns a pipeline serving into s.
func New(s *server.Server, log *slog.Logger) *Pipeline {
	c := functions.NewCatalog()
	m := newMetrics()
	poller := fds.NewPoller(c, log)
	poller.Observe = m.poll
	p := &Pipeline{server: s, catalog: c, poller: poller, log: log, proxies: map[string]bool{}, metrics: m, served: map[string]servedProxy{}}
	p.jwks = newJWKSProbe(p.translate)
	return p
}

// FollowCatalog re-translates whenever discovery changes the catalog.
func (p *Pipeline) FollowCatalog(ctx context.Context) {
	changed := p.catalog.Watch()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
			p.translate(ctx)
		}
	}
}

// MarkReady records that a snapshot (restored or translated) is served.
func (p *Pipeline) MarkReady() {
	p.mu.Lock()
	p.ready = true
	p.mu.Unlock()
}

// Apply takes a new source snapshot: discovery follows it, and it is
// translated and served. A source error keeps everything as it was.
func (p *Pipeline) Apply(ctx context.Context, snap filesource.Snapshot, srcErr error) {
	if srcErr != nil {
		p.log.Error("config source failed; serving the last good config", "err", srcErr)
		p.setStatus(nil, []string{srcErr.Error()}, false)
		return
	}
	res := p.change(ctx, func() { p.source = &snap })
	p.jwks.sync(ctx, jwksTargets(res))
	if p.OnVaultPaths != nil {
		p.OnVaultPaths(VaultPaths(snap.Resources))
	}
	p.translate(ctx)
}

// change makes a change of the pipeline's inputs (set runs under the
// translation lock) and points function discovery at the upstreams of the
// resources that result, which it returns; the caller translates.
func (p *Pipeline) change(ctx context.Context, set func()) api.Resources {
	p.translateMu.Lock()
	set()
	res := p.resourcesLocked()
	p.translateMu.Unlock()
	p.syncDiscovery(ctx, res)
	return res
}

// resourcesLocked are the source's resources with what upstream discovery
// adds to them; translateMu is held.
func (p *Pipeline) resourcesLocked() api.Resources {
	res, _ := p.resourcesAndProblemsLocked()
	return res
}

// resourcesAndProblemsLocked also says which Vault-backed Secrets could
// not be read, and why.
func (p *Pipeline) resourcesAndProblemsLocked() (api.Resources, map[api.Key]string) {
	if p.source == nil {
		return api.Resources{}, nil
	}
	return withVaultSecrets(p.consul.addTo(p.source.Resources), p.vault)
}

// translate serves the latest source snapshot with the catalog as it is
// now; a proxy that fails stage 2 keeps its last good snapshot while the
// others move on.
func (p *Pipeline) translate(ctx context.Context) {
	p.translateMu.Lock()
	defer p.translateMu.Unlock()
	if p.source == nil {
		return // discovery ran ahead of the first config read
	}
	snap := *p.source
	var vaultProblems map[api.Key]string
	snap.Resources, vaultProblems = p.resourcesAndProblemsLocked()
	if p.OnSecrets != nil {
		p.OnSecrets(snap.Resources.Secrets)
	}
	var errs []string
	if p.RateLimit != nil {
		if err := p.RateLimit.SetConfigs(RateLimitConfigs(snap.Resources.Settings)); err != nil {
			// Settings validation should have caught it; the old limits stay.
			p.log.Error("rate limits refused; the previous limits stay", "err", err)
			errs = append(errs, err.Error())
		}
	}
	fns := p.catalog.Snapshot()
	start := time.Now()
	out := gateway.Translate(snap.Resources, fns, p.gatewayOptions())
	p.metrics.stage("gateway", start)
	reports := api.Reports{}
	reports.Merge(snap.Reports)
	reports.Merge(out.Reports)
	for k, msg := range vaultProblems {
		reports.Warn(k, api.Problem{Code: api.SecretNotFound, Path: "spec.vault.path", Message: msg})
	}
	served := map[string]bool{}
	for _, proxy := range out.Proxies {
		served[proxy.Name] = true
		start := time.Now()
		res, err := translator.Translate(proxy)
		p.metrics.stage("xds", start)
		if err != nil {
			p.log.Error("translation failed; proxy keeps its last good snapshot", "proxy", proxy.Name, "err", err)
			errs = append(errs, err.Error())
			p.metrics.pushErrors.WithLabelValues(proxy.Name).Inc()
			continue
		}
		errs = append(errs, reportLeftOut(reports, proxy.Name, res.Problems)...)
		byType := res.ByType()
		version, err := p.server.Set(ctx, proxy.Name, byType)
		if err != nil {
			p.log.Error("snapshot refused; proxy keeps its last good snapshot", "proxy", proxy.Name, "err", err)
			errs = append(errs, err.Error())
			p.metrics.pushErrors.WithLabelValues(proxy.Name).Inc()
			continue
		}
		p.served[proxy.Name] = servedProxy{ir: proxy, byType: byType}
		p.metrics.pushes.WithLabelValues(proxy.Name).Inc()
		for typ, rs := range byType {
			p.metrics.resources.WithLabelValues(proxy.Name, typ).Set(float64(len(rs)))
		}
		p.log.Info("serving config", "proxy", proxy.Name, "version", version,
			"listeners", len(res.Listeners), "clusters", len(res.Clusters))
	}
	p.clearRemoved(ctx, served)
	list := reports.List()
	for _, r := range list {
		if r.State != api.Accepted {
			p.log.Warn("resource "+string(r.State), "resource", r.Key.String(), "origin", r.Origin, "reasons", r.Reasons())
		}
	}
	p.mu.Lock()
	p.owners = out.ListenerOwners
	p.mu.Unlock()
	p.setStatus(list, errs, len(errs) == 0)
	if p.OnReports != nil {
		p.OnReports(list, fns, out.GatewayAPI)
	}
}

// gatewayOptions are stage 1's options, with what the control plane
// learnt of remote JWKS.
func (p *Pipeline) gatewayOptions() gateway.Options {
	opts := p.GatewayOptions
	opts.JWKSFailures = p.jwks.failures()
	return opts
}

// clearRemoved serves an empty config to proxies that no gateway names any
// more, so their listeners close.
func (p *Pipeline) clearRemoved(ctx context.Context, served map[string]bool) {
	p.mu.Lock()
	removed := []string{}
	for name := range p.proxies {
		if !served[name] {
			removed = append(removed, name)
		}
	}
	p.proxies = served
	p.mu.Unlock()
	sort.Strings(removed)
	for _, name := range removed {
		delete(p.served, name)
		empty := (&translator.Resources{}).ByType()
		if _, err := p.server.Set(ctx, name, empty); err != nil {
			p.log.Error("could not clear removed proxy", "proxy", name, "err", err)
		}
	}
}

func (p *Pipeline) setStatus(reports []api.Report, errs []string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if reports != nil {
		p.reports = reports
	}
	p.errors = errs
	if ok {
		p.ready = true
	}
}

// Status is the /statusz document; gluonctl reads it.
type Status struct {
	Ready     bool              `json:"ready"`
	Reports   []api.Report      `json:"reports"`
	Errors    []string          `json:"errors,omitempty"`
	Snapshots []server.Snapshot `json:"snapshots"`
	Clients   []server.Client   `json:"clients"`
	// Functions is what discovery found, upstream by upstream.
	Functions []functions.Discovered `json:"functions"`
	// EndpointHealth is the embedded data plane's view of the endpoints
	// of clusters that check health: healthy, unhealthy or ejected.
	EndpointHealth []dataplane.ClusterHealth `json:"endpointHealth,omitempty"`
}

// SecretValues are the values of every Secret of the config and the keys
// discovery read: what no view of the served config may show.
func (p *Pipeline) SecretValues() map[string]bool {
	out := map[string]bool{}
	p.translateMu.Lock()
	for _, s := range p.resourcesLocked().Secrets {
		for _, v := range s.Spec.Values() {
			out[v] = true
		}
	}
	p.translateMu.Unlock()
	for _, d := range p.catalog.Snapshot() {
		if k := d.AzureKeys; k != nil {
			for _, v := range append([]string{k.Host, k.Master}, slices.Collect(maps.Values(k.Function))...) {
				if v != "" {
					out[v] = true
				}
			}
		}
	}
	return out
}

// Resources are the resources of the config source now in force; callers
// read them and change nothing.
func (p *Pipeline) Resources() api.Resources {
	p.translateMu.Lock()
	defer p.translateMu.Unlock()
	return p.resourcesLocked()
}

// XDSAnswers are the ACKs and NACKs xDS clients sent, by type URL.
func (p *Pipeline) XDSAnswers() map[string]server.Answers { return p.server.Answers() }

// Status is what /statusz shows now.
func (p *Pipeline) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	clients := p.server.Clients()
	return Status{
		Ready:     p.ready,
		Reports:   withListenerNACKs(p.reports, clients, p.owners),
		Errors:    append([]string{}, p.errors...),
		Snapshots: p.server.Snapshots(),
		Clients:   clients,
		Functions: p.catalog.Snapshot().List(),
	}
}

// withListenerNACKs adds to each Gateway's report the listeners its proxies
// refused (a port another process holds, say), naming the proxy's node:
// the translation accepted the Gateway, but it does not serve.
func withListenerNACKs(reports []api.Report, clients []server.Client, owners map[string]map[string]api.Key) []api.Report {
	extra := api.Reports{}
	for _, c := range clients {
		nack := c.Types[resourcev3.ListenerType].Nack
		if nack == "" {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(owners[c.Proxy])) {
			if strings.Contains(nack, strconv.Quote(name)) || strings.Contains(nack, name+":") {
				extra.Reject(owners[c.Proxy][name], api.Problem{Code: api.ListenerNotServed, Path: "spec.bindPort",
					Message: fmt.Sprintf("proxy %s (node %s) cannot serve listener %s: %s", c.Proxy, c.NodeID, name, nack)})
			}
		}
	}
	if len(extra) == 0 {
		return append([]api.Report{}, reports...)
	}
	merged := api.Reports{}
	for _, r := range reports {
		r.Problems = slices.Clone(r.Problems)
		merged[r.Key] = &r
	}
	merged.Merge(extra)
	return merged.List()
}

// reportLeftOut rejects, at their origin, the parts of a proxy stage 2 left
// out; it returns those that name no origin, as errors of the proxy.
func reportLeftOut(reports api.Reports, proxy string, problems []translator.Problem) []string {
	var orphans []string
	for _, pr := range problems {
		msg := pr.Err.Error() + "; it is left out of proxy " + proxy
		if pr.Origin == (ir.Origin{}) {
			orphans = append(orphans, msg)
			continue
		}
		o := pr.Origin
		reports.Reject(api.Key{Kind: api.Kind(o.Kind), Namespace: o.Namespace, Name: o.Name},
			api.Problem{Code: api.NotTranslated, Path: o.Field, Message: msg})
	}
	return orphans
}

// Snapshots are the snapshots being served, sorted by proxy.
func (p *Pipeline) Snapshots() []server.Snapshot { return p.server.Snapshots() }
