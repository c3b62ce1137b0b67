package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource"
	"github.com/gluon-gateway/gluon/controlplane"
	udskube "github.com/gluon-gateway/gluon/uds/kube"
)

// kubeOptions configure Kubernetes mode: config from CRDs and Services
// instead of a directory.
type kubeOptions struct {
	enabled         bool
	kubeconfig      string
	namespace       string
	watchNamespaces []string
	leaderElect     bool
	discoveryMode   udskube.Mode
	// gatewayAPIBindAddress is where Gateway API listeners listen.
	gatewayAPIBindAddress string
	webhook               webhookOptions
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		cfg, err = ctrl.GetConfig() // $KUBECONFIG, ~/.kube/config or in-cluster
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config: %w", err)
	}
	// The API server's priority and fairness paces us; client-side limits
	// would only delay status writes for large configs.
	cfg.QPS = -1
	return cfg, nil
}

// runKube reads config from the cluster into the pipeline until ctx ends.
// Every replica reads and serves; only the elected leader discovers
// upstreams and writes status.
func runKube(ctx context.Context, o kubeOptions, state api.StateStore, p *controlplane.Pipeline, log *slog.Logger) error {
	cfg, err := restConfig(o.kubeconfig)
	if err != nil {
		return err
	}
	mgr, err := newManager(cfg, o, log)
	if err != nil {
		return err
	}
	gwAPI, err := kubesource.GatewayAPIInstalled(mgr.GetRESTMapper())
	if err != nil {
		return fmt.Errorf("looking for the Gateway API: %w", err)
	}
	if !gwAPI {
		log.Warn("the Gateway API CRDs are not installed; HTTPRoutes are not served")
	}
	src, err := kubesource.New(mgr.GetCache(), gwAPI, state)
	if err != nil {
		log.Error("the saved config state could not be read; starting without it", "err", err)
	}
	if gwAPI {
		streams, err := kubesource.StreamRoutesInstalled(mgr.GetRESTMapper())
		if err != nil {
			return fmt.Errorf("looking for TLSRoutes and TCPRoutes: %w", err)
		}
		if streams {
			src.ServeStreamRoutes()
		} else {
			log.Warn("the TLSRoute and TCPRoute CRDs (v1) are not installed; they are not served")
		}
		grpcRoutes, err := kubesource.GRPCRoutesInstalled(mgr.GetRESTMapper())
		if err != nil {
			return fmt.Errorf("looking for GRPCRoutes: %w", err)
		}
		if grpcRoutes {
			src.ServeGRPCRoutes()
		} else {
			log.Warn("the GRPCRoute CRD (v1) is not installed; GRPCRoutes are not served")
		}
	}
	writer := newStatusLoop(writeKubeStatus(&kubesource.StatusWriter{Client: mgr.GetClient(), Reader: mgr.GetCache()}), log)
	p.OnReports = writer.offer
	uds := &udskube.UDS{Client: mgr.GetClient(), Cache: mgr.GetCache(), Namespace: o.namespace, Mode: o.discoveryMode, Log: log.With("component", "uds")}
	runnables := []manager.Runnable{
		everyReplica(func(ctx context.Context) error {
			return src.Run(ctx, func(s api.Snapshot, err error) { p.Apply(ctx, s, err) })
		}),
		manager.RunnableFunc(uds.Run),
		manager.RunnableFunc(writer.run),
	}
	if o.webhook.addr != "" {
		wh, err := setupWebhook(ctx, mgr, o, p, log)
		if err != nil {
			return err
		}
		runnables = append(runnables, wh)
	}
	for _, r := range runnables {
		if err := mgr.Add(r); err != nil {
			return fmt.Errorf("adding to the manager: %w", err)
		}
	}
	log.Info("reading config from Kubernetes", "host", cfg.Host, "namespace", o.namespace,
		"watch-namespaces", strings.Join(o.watchNamespaces, ","), "gateway-api", gwAPI)
	return mgr.Start(ctx)
}

func newManager(cfg *rest.Config, o kubeOptions, log *slog.Logger) (manager.Manager, error) {
	scheme, err := kubesource.NewScheme()
	if err != nil {
		return nil, err
	}
	opts := manager.Options{
		Scheme:                        scheme,
		Logger:                        logr.FromSlogHandler(log.With("component", "kubernetes").Handler()),
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		LeaderElection:                o.leaderElect,
		LeaderElectionID:              "gluon-leader",
		LeaderElectionNamespace:       o.namespace,
		LeaderElectionReleaseOnCancel: true,
	}
	// Nothing reads managedFields; dropping them halves what the cache holds.
	opts.Cache.DefaultTransform = cache.TransformStripManagedFields()
	if len(o.watchNamespaces) > 0 {
		// Discovered upstreams live in Gluon's own namespace: read it too.
		opts.Cache.DefaultNamespaces = map[string]cache.Config{o.namespace: {}}
		for _, ns := range o.watchNamespaces {
			opts.Cache.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgr, err := manager.New(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("kubernetes manager: %w", err)
	}
	return mgr, nil
}

// everyReplica is a runnable that runs whether or not this replica leads.
type everyReplica func(ctx context.Context) error

func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }

func addKubeFlags(f *pflag.FlagSet, o *kubeOptions) {
	f.BoolVar(&o.enabled, "kube", false, "read config from Kubernetes (CRDs, Services, Gateway API) instead of --config-dir; implied by --kubeconfig")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	f.StringVar(&o.namespace, "namespace", "gluon-system", "Gluon's own namespace: discovered upstreams, the leader lease and the webhook certificate live here")
	f.StringSliceVar(&o.watchNamespaces, "watch-namespaces", nil, "namespaces to read (default: all)")
	f.BoolVar(&o.leaderElect, "leader-elect", true, "elect a leader among replicas to discover upstreams and write status")
	o.discoveryMode = udskube.OptOut
	f.Var(&o.discoveryMode, "service-discovery", "opt-out: every Service but those labelled discovery.gluon.dev/upstream_discovery=disabled; opt-in: only those labelled enabled")
	f.StringVar(&o.gatewayAPIBindAddress, "gateway-api-bind-address", "0.0.0.0", "address the listeners of Gateway API Gateways bind")
	f.StringVar(&o.webhook.addr, "webhook-addr", "", "address of the validating admission webhook, e.g. :9443 (default: no webhook)")
	f.StringVar(&o.webhook.url, "webhook-url", "", "https URL the API server calls the webhook at (Gluon outside the cluster)")
	f.StringVar(&o.webhook.service, "webhook-service", "", "namespace/name of the Service in front of the webhook, port 443 (Gluon inside the cluster)")
	f.StringVar(&o.webhook.configName, "webhook-config-name", "gluon", "name of the ValidatingWebhookConfiguration Gluon keeps")
	f.StringVar(&o.webhook.failurePolicy, "webhook-failure-policy", "Ignore", "Fail refuses changes while no Gluon answers; Ignore lets them through unvalidated")
}
