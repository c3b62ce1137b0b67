package main

import (
	"context"
	"fmt"
	"log/slog"

	consulapi "github.com/hashicorp/consul/api"
	"github.com/spf13/pflag"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/consulsource"
	"github.com/gluon-gateway/gluon/controlplane"
	udsconsul "github.com/gluon-gateway/gluon/uds/consul"
)

// consulOptions say how to reach Consul, where upstream discovery finds
// services.
type consulOptions struct {
	addr        string
	tokenFile   string
	caFile      string
	datacenters []string
	namespace   string
	// prefix, when set, makes Consul's KV store the config source.
	prefix string
}

func addConsulFlags(f *pflag.FlagSet, o *consulOptions) {
	f.StringVar(&o.addr, "consul-addr", "", "Consul agent (host:port, or https://host:port): its services become Upstreams consul-<service>, their healthy instances the endpoints")
	f.StringVar(&o.tokenFile, "consul-token-file", "", "file holding the Consul ACL token (default: $CONSUL_HTTP_TOKEN)")
	f.StringVar(&o.caFile, "consul-ca-file", "", "CA bundle that verifies Consul over HTTPS (default: the system's)")
	f.StringSliceVar(&o.datacenters, "consul-datacenters", nil, "Consul datacenters to discover services in (default: the agent's own)")
	f.StringVar(&o.namespace, "consul-upstream-namespace", "default", "namespace of the Upstreams discovered in Consul")
	f.StringVar(&o.prefix, "consul-prefix", "", "read Gluon's resources from Consul KV under this prefix (gluon/), as <prefix>/gluon.dev/v1/<Kind>/<namespace>/<name> YAML entries, instead of --config-dir")
}

// client is a Consul API client as the options say, the environment's
// CONSUL_* settings filling in the rest.
func (o consulOptions) client() (*consulapi.Client, error) {
	cfg := consulsource.Config(o.addr)
	if o.tokenFile != "" {
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

// runConsulDiscovery feeds what Consul's catalog holds into p until ctx
// ends.
func runConsulDiscovery(ctx context.Context, o consulOptions, p *controlplane.Pipeline, log *slog.Logger) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	w := &udsconsul.Watcher{Client: c, Datacenters: o.datacenters, Log: log.With("component", "uds-consul")}
	log.Info("discovering upstreams in consul", "addr", o.addr, "datacenters", o.datacenters)
	return w.Run(ctx, func(services []api.ConsulService) { p.SetConsulServices(ctx, o.namespace, services) })
}

// runConsulSource serves the resources of Consul's KV store under the
// prefix until ctx ends.
func runConsulSource(ctx context.Context, o consulOptions, state api.StateStore, p *controlplane.Pipeline, log *slog.Logger) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	src, err := consulsource.New(c, o.prefix, state, log.With("component", "consul-kv"))
	if err != nil {
		log.Error("the saved config state could not be read; starting without it", "err", err)
	}
	log.Info("reading config source", "consul", o.addr, "prefix", o.prefix)
	return src.Run(ctx, func(s api.Snapshot, err error) { p.Apply(ctx, s, err) })
}
