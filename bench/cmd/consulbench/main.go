// Command consulbench measures Consul upstream discovery against a real
// Consul agent: how long 1,000 services registered in Consul take to become
// Upstreams and an xDS snapshot with their endpoints, and how fast a
// health check turning passing reaches an xDS client as EDS. It prints a
// table; bench/consul.sh runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/gluon-gateway/gluon/bench/internal/benchkit"
	"github.com/gluon-gateway/gluon/bench/internal/xdsclient"
	udsconsul "github.com/gluon-gateway/gluon/uds/consul"
)

func main() {
	gluon := flag.String("gluon", "", "the gluon binary")
	consul := flag.String("consul", "", "the consul binary")
	services := flag.Int("services", 1000, "services to register")
	rounds := flag.Int("eds-rounds", 100, "health changes to time")
	delta := flag.Bool("delta", false, "subscribe with delta ADS (only changed resources are sent), as Envoy with many clusters does; default state of the world")
	flag.Parse()
	if err := run(*gluon, *consul, *services, *rounds, *delta); err != nil {
		log.Fatal(err)
	}
}

func run(gluon, consulBin string, services, rounds int, delta bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "consulbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addrs := benchkit.FreeAddrs(8)
	stopConsul, c, err := startConsul(ctx, consulBin, addrs[4:])
	if err != nil {
		return err
	}
	defer stopConsul()
	// The state directory lies outside the watched config directory.
	if err := os.Mkdir(filepath.Join(dir, "config"), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config", "config.yaml"), []byte(config(services)), 0o600); err != nil {
		return err
	}
	stopGluon, err := start(filepath.Join(os.TempDir(), "consulbench-gluon.log"), gluon, "serve", "--config-dir", filepath.Join(dir, "config"), "--dataplane", "none",
		"--state-dir", filepath.Join(dir, "state"), "--xds-addr", addrs[0], "--admin-addr", addrs[1], "--ratelimit-addr", addrs[2],
		"--consul-addr", addrs[4])
	if err != nil {
		return err
	}
	defer stopGluon()
	if err := benchkit.WaitReady(ctx, "http://"+addrs[1]+"/readyz"); err != nil {
		return err
	}
	xds, mode, err := dial(ctx, addrs[0], delta)
	if err != nil {
		return err
	}
	rows, err := measureServices(ctx, c, xds, services)
	if err != nil {
		return err
	}
	stopProfile := benchkit.Profile(addrs[1], os.Getenv("CONSULBENCH_CPUPROFILE"))
	eds, err := measureHealth(ctx, c, xds, min(services, 100), rounds, mode)
	stopProfile()
	if err != nil {
		return err
	}
	benchkit.PrintTable(append(rows, eds...))
	return nil
}

// dial opens the ADS client, delta or state of the world, subscribed to
// clusters and endpoints; mode names it for the table.
func dial(ctx context.Context, addr string, delta bool) (*xdsclient.Client, string, error) {
	if delta {
		x, err := xdsclient.DialDelta(ctx, addr, "consulbench", "gateway-proxy")
		return x, "delta ADS", err
	}
	x, err := xdsclient.Dial(ctx, addr, "consulbench", "gateway-proxy")
	if err != nil {
		return nil, "", err
	}
	return x, "SotW ADS", x.SubscribeEDS()
}

// config is a gateway routing /svc-NNNN to each service's Upstream (a
// proxy is sent the clusters its routes use), function discovery off.
func config(services int) string {
	var b strings.Builder
	b.WriteString("apiVersion: gluon.dev/v1\nkind: Gateway\nmetadata: {name: http}\nspec: {bindAddress: 127.0.0.1, bindPort: 18080}\n---\n")
	// Function discovery is off: the instances are addresses nobody
	// listens on, which it would probe, and retry, all along.
	b.WriteString("apiVersion: gluon.dev/v1\nkind: Settings\nmetadata: {name: default}\nspec: {discovery: {fdsMode: DISABLED}}\n---\n")
	b.WriteString("apiVersion: gluon.dev/v1\nkind: VirtualService\nmetadata: {name: all}\nspec:\n  virtualHost:\n    routes:\n")
	for i := range services {
		fmt.Fprintf(&b, "    - matchers: [{prefix: /%s}]\n      routeAction: {single: {upstream: {name: consul-%s}}}\n", serviceName(i), serviceName(i))
	}
	return b.String()
}

func serviceName(i int) string { return fmt.Sprintf("svc-%04d", i) }
func clusterName(i int) string { return "consul-" + serviceName(i) + "_default" }

// measureServices registers the services, one passing instance each, and
// times until an xDS client has every cluster with its endpoint. They are
// written to the catalog as from 50 nodes, as a cluster's agents would
// sync them: registered on one dev agent, the agent's own sync of 1,000
// services would be what is measured.
func measureServices(ctx context.Context, c *consulapi.Client, xds *xdsclient.Client, n int) ([]benchkit.Row, error) {
	start := time.Now()
	if err := benchkit.Parallel(n, 16, func(i int) error {
		return register(c, i%50, serviceName(i), serviceName(i), 10000, consulapi.HealthPassing)
	}); err != nil {
		return nil, err
	}
	registered := time.Since(start)
	if err := xds.WaitUntil(ctx, 5*time.Minute, func() bool {
		if xds.Clusters < n {
			return false
		}
		for i := range n {
			if len(xds.Endpoints[clusterName(i)]) == 0 {
				return false
			}
		}
		return true
	}); err != nil {
		return nil, fmt.Errorf("waiting for %d clusters with endpoints: %w", n, err)
	}
	served := time.Since(start)
	return []benchkit.Row{
		benchkit.Line(fmt.Sprintf("%d services registered in Consul (16 writers)", n), benchkit.Secs(registered), "-"),
		benchkit.Line(fmt.Sprintf("  → %d Upstreams, xDS clusters and endpoints pushed", n), benchkit.Secs(served), "-"),
	}, nil
}

// measureHealth adds, each round, an instance whose check starts critical
// and turns it passing (a catalog write, as the instance's agent makes),
// timing until its address arrives at the client.
func measureHealth(ctx context.Context, c *consulapi.Client, xds *xdsclient.Client, services, rounds int, mode string) ([]benchkit.Row, error) {
	var lat, writes []time.Duration
	for r := range rounds {
		i := r % services
		id := fmt.Sprintf("%s-extra-%d", serviceName(i), r)
		port := 20000 + r
		if err := register(c, i%50, serviceName(i), id, port, consulapi.HealthCritical); err != nil {
			return nil, err
		}
		time.Sleep(20 * time.Millisecond) // the registration is news of its own
		start := time.Now()
		if err := register(c, i%50, serviceName(i), id, port, consulapi.HealthPassing); err != nil {
			return nil, err
		}
		writes = append(writes, time.Since(start))
		key := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		seenAt, err := xds.FirstSeen(ctx, clusterName(i), key, 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("round %d: %w", r, err)
		}
		lat = append(lat, seenAt.Sub(start))
	}
	// The latency counts from the start of the catalog write: it includes
	// the write itself (Consul's Raft commit), shown apart.
	return append(benchkit.LatencyRows("health check passing → EDS push ("+mode+")", lat, "≤ 100 ms"),
		benchkit.LatencyRows("  of which the catalog write itself", writes, "-")...), nil
}

// register writes an instance of service on node bench-<node> to the
// catalog, with a check in the given state.
func register(c *consulapi.Client, node int, service, id string, port int, status string) error {
	name := fmt.Sprintf("bench-%02d", node)
	_, err := c.Catalog().Register(&consulapi.CatalogRegistration{Node: name, Address: "127.0.0.1", SkipNodeUpdate: true,
		Service: &consulapi.AgentService{ID: id, Service: service, Address: "127.0.0.1", Port: port},
		Check:   &consulapi.AgentCheck{Node: name, CheckID: id + "-check", Name: id, Status: status, ServiceID: id}}, nil)
	return err
}

// startConsul runs a -dev agent on the given loopback addresses (HTTP,
// serf LAN, serf WAN, server RPC) and waits for its leader.
func startConsul(ctx context.Context, bin string, addrs []string) (func(), *consulapi.Client, error) {
	port := func(a string) string { _, p, _ := net.SplitHostPort(a); return p }
	args := append(udsconsul.DevAgentArgs(port(addrs[0]), port(addrs[1]), port(addrs[2]), port(addrs[3])), "-log-level", "warn")
	stop, err := start(filepath.Join(os.TempDir(), "consulbench-consul.log"), bin, args...)
	if err != nil {
		return nil, nil, err
	}
	cfg := consulapi.DefaultConfig()
	cfg.Address = addrs[0]
	c, err := consulapi.NewClient(cfg)
	if err != nil {
		stop()
		return nil, nil, err
	}
	for {
		if leader, err := c.Status().Leader(); err == nil && leader != "" {
			return stop, c, nil
		}
		select {
		case <-ctx.Done():
			stop()
			return nil, nil, fmt.Errorf("consul has no leader: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// start runs a command logging to logPath; the func stops it.
func start(logPath, bin string, args ...string) (func(), error) {
	logs, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		logs.Close()
		return nil, err
	}
	return func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); logs.Close() }, nil
}
