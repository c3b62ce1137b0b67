package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/spf13/pflag"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/consulsource"
	"github.com/gluon-gateway/gluon/controlplane"
	"github.com/gluon-gateway/gluon/fds/consulcatalog"
	udsconsul "github.com/gluon-gateway/gluon/uds/consul"
)

// consulOptions say how to reach Consul, where upstream discovery finds
// services.
type consulOptions struct {
	addr      string
	tokenFile string
	// tokenSecret, when set, names the Secret (namespace/name) whose ACL
	// token upstream discovery uses.
	tokenSecret string
	caFile      string
	datacenters []string
	namespace   string
	perTagSet   bool
	// prefix, when set, makes Consul's KV store the config source.
	prefix string
	// statusPrefix is where the leader writes status and shares what
	// function discovery found; replicaID names this replica there.
	statusPrefix, replicaID string
}

func addConsulFlags(f *pflag.FlagSet, o *consulOptions) {
	f.StringVar(&o.addr, "consul-addr", "", "Consul agent (host:port, or https://host:port): its services become Upstreams consul-<service>, their healthy instances the endpoints")
	f.StringVar(&o.tokenFile, "consul-token-file", "", "file holding the Consul ACL token (default: $CONSUL_HTTP_TOKEN)")
	f.StringVar(&o.tokenSecret, "consul-token-secret", "", "namespace/name of a header Secret whose X-Consul-Token header is the ACL token upstream discovery uses instead of --consul-token-file's (it may live in Vault); it follows the Secret's changes")
	f.StringVar(&o.caFile, "consul-ca-file", "", "CA bundle that verifies Consul over HTTPS (default: the system's)")
	f.StringSliceVar(&o.datacenters, "consul-datacenters", nil, "Consul datacenters to discover services in (default: the agent's own)")
	f.BoolVar(&o.perTagSet, "consul-tag-upstreams", false, "also make an Upstream consul-<service>-<tags> for every distinct set of tags a service's instances carry, of the instances that carry them")
	f.StringVar(&o.namespace, "consul-upstream-namespace", "default", "namespace of the Upstreams discovered in Consul")
	f.StringVar(&o.statusPrefix, "consul-status-prefix", "", "where the elected leader writes each resource's status and shares discovered functions (default: the --consul-prefix's sibling, gluon-status/)")
	f.StringVar(&o.replicaID, "consul-replica-id", "", "this replica's name in the leader lock and in status (default: host name and admin address)")
	f.StringVar(&o.prefix, "consul-prefix", "", "read Gluon's resources from Consul KV under this prefix (gluon/), as <prefix>/gluon.dev/v1/<Kind>/<namespace>/<name> YAML entries, instead of --config-dir")
}

// client is a Consul API client as the options say, the environment's
// CONSUL_* settings filling in the rest. Upstream discovery's, with a token
// Secret (tokenFromSecret), presents no other token: the Secret's comes
// with its first read. (The KV config source's presents the token file's,
// which it needs before any Secret is read.)
func (o consulOptions) client(tokenFromSecret bool) (*consulapi.Client, error) {
	cfg := consulsource.Config(o.addr)
	if tokenFromSecret {
		cfg.Token = ""
	} else if o.tokenFile != "" {
		token, err := readTrimmed(o.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("consul token: %w", err)
		}
		cfg.Token = token
	}
	if o.caFile != "" {
		cfg.TLSConfig.CAFile = o.caFile
	}
	// Two blocking queries per datacenter hold connections while services
	// are read beside them: keep enough idle ones not to dial per read.
	cfg.Transport.MaxIdleConnsPerHost = 32
	c, err := consulapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consul client: %w", err)
	}
	return c, nil
}

// consulDiscovery returns what feeds Consul's catalog into p until ctx
// ends; with a token Secret, it first sets p to hand the token over.
func consulDiscovery(o consulOptions, p *controlplane.Pipeline, log *slog.Logger) (func(context.Context) error, error) {
	c, err := o.client(o.tokenSecret != "")
	if err != nil {
		return nil, err
	}
	log = log.With("component", "uds-consul")
	if o.tokenSecret != "" {
		ref, err := parseRef(o.tokenSecret)
		if err != nil {
			return nil, fmt.Errorf("--consul-token-secret: %w", err)
		}
		p.OnSecrets = (&consulToken{client: c, ref: ref, log: log}).follow
	}
	w := &udsconsul.Watcher{Client: c, Datacenters: o.datacenters, Log: log}
	return func(ctx context.Context) error {
		log.Info("discovering upstreams in consul", "addr", o.addr, "datacenters", o.datacenters)
		return w.Run(ctx, func(services []api.ConsulService) {
			p.SetConsulServices(ctx, udsconsul.UpstreamOptions{Namespace: o.namespace, PerTagSet: o.perTagSet}, services)
		})
	}, nil
}

// consulToken gives a Consul client the ACL token a Secret holds: a header
// Secret whose X-Consul-Token header is the token, the header Consul reads
// it from. Every request after a change of the Secret uses the new token;
// a query refused meanwhile is retried.
type consulToken struct {
	client  *consulapi.Client
	ref     api.ResourceRef
	log     *slog.Logger
	current string
	// missing says the Secret was found wanting, and logged so once.
	missing bool
}

const consulTokenHeader = "X-Consul-Token"

func (t *consulToken) follow(secrets []*api.Secret) {
	token := ""
	if s := api.FindSecret(secrets, t.ref); s != nil && s.Spec.Header != nil {
		token = s.Spec.Header.Headers[consulTokenHeader]
	}
	if token == t.current || token == "" && t.missing {
		return
	}
	t.missing = token == ""
	if token == "" {
		t.log.Warn("the Consul token Secret is missing, or has no "+consulTokenHeader+" header: discovery keeps the token it had", "secret", t.ref.Namespace+"/"+t.ref.Name)
		return
	}
	t.current = token
	t.client.SetHeaders(http.Header{consulTokenHeader: {token}})
	t.log.Info("using the Consul ACL token of a Secret", "secret", t.ref.Namespace+"/"+t.ref.Name)
}

// runConsulSource serves the resources of Consul's KV store under the
// prefix until ctx ends. Replicas on one prefix elect a leader (a Consul
// session lock) that runs function discovery, shares what it finds under
// the status prefix and writes status there; the others serve what it
// shares, so all translate the same input into the same snapshot.
func runConsulSource(ctx context.Context, o consulOptions, state api.StateStore, p *controlplane.Pipeline, log *slog.Logger) error {
	c, err := o.client(false)
	if err != nil {
		return err
	}
	src, err := consulsource.New(c, o.prefix, state, log.With("component", "consul-kv"))
	if err != nil {
		log.Error("the saved config state could not be read; starting without it", "err", err)
	}
	statusPrefix := o.statusPrefix
	if statusPrefix == "" {
		statusPrefix = consulsource.StatusPrefix(o.prefix)
	}
	p.ElectDiscovery()
	catalogPrefix := consulcatalog.Prefix(statusPrefix)
	followLog := log.With("component", "consul-catalog")
	takeCatalog := func(pairs consulapi.KVPairs) { p.TakeCatalog(consulcatalog.SnapshotOf(pairs, followLog)) }
	// Before the config: routes to functions serve from the first snapshot.
	if pairs, _, err := c.KV().List(catalogPrefix, (&consulapi.QueryOptions{}).WithContext(ctx)); err == nil {
		takeCatalog(pairs)
	}
	go consulsource.WatchPrefix(ctx, c.KV(), catalogPrefix, takeCatalog,
		func(err error) { followLog.Warn("reading the leader's function catalog; trying again", "err", err) })
	status := &consulsource.StatusWriter{KV: c.KV(), Prefix: statusPrefix, ReportedBy: "gluon " + o.replicaID}
	writer := newStatusLoop(func(ctx context.Context, s statusOffer) error {
		return status.Write(ctx, s.reports, discoveredCounts(s.fns))
	}, log)
	p.OnReports = writer.offer
	publisher := consulcatalog.NewPublisher(c.KV(), catalogPrefix, p.Catalog(), followLog)
	election := &consulsource.Election{Client: c, Key: consulsource.LeaderKey(statusPrefix), ID: o.replicaID, Log: log.With("component", "consul-leader")}
	go func() {
		err := election.Run(ctx, func(ctx context.Context) {
			runAll(ctx, p.Lead, publisher.Run, func(ctx context.Context) { _ = writer.run(ctx) })
		})
		if err != nil {
			log.Error("leader election stopped: this replica neither discovers nor writes status", "err", err)
		}
	}()
	log.Info("reading config source", "consul", o.addr, "prefix", o.prefix, "status-prefix", statusPrefix, "replica", o.replicaID)
	return src.Run(ctx, func(s api.Snapshot, err error) { p.Apply(ctx, s, err) })
}

// runAll runs each function in a goroutine of its own and returns when
// all have.
func runAll(ctx context.Context, fns ...func(context.Context)) {
	var wg sync.WaitGroup
	for _, f := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	wg.Wait()
}

// parseRef reads namespace/name; a bare name is in namespace default.
func parseRef(s string) (api.ResourceRef, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok {
		ns, name = "default", s
	}
	if ns == "" || name == "" {
		return api.ResourceRef{}, fmt.Errorf("%q: want namespace/name", s)
	}
	return api.ResourceRef{Namespace: ns, Name: name}, nil
}
