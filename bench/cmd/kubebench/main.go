// Command kubebench measures Gluon's Kubernetes mode on a real API server:
// how long 1,000 Services take to become Upstreams and an xDS snapshot,
// how fast an EndpointSlice change reaches an xDS client as EDS, and how
// long the admission webhook takes with a 1,000-route config. It prints a
// table; bench/kube.sh runs it.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gluon-gateway/gluon/api/kubesource/kubetest"
	"github.com/gluon-gateway/gluon/bench/internal/benchkit"
	"github.com/gluon-gateway/gluon/bench/internal/xdsclient"
)

func main() {
	gluon := flag.String("gluon", "", "the gluon binary")
	services := flag.Int("services", 1000, "Services to create")
	edsRounds := flag.Int("eds-rounds", 100, "EndpointSlice changes to time")
	flag.Parse()
	if err := run(*gluon, *services, *edsRounds); err != nil {
		log.Fatal(err)
	}
}

func run(gluon string, services, edsRounds int) error {
	env, err := kubetest.Start()
	if err != nil {
		return err
	}
	defer env.Stop()
	admin, err := ctrlclient.New(env.Config, ctrlclient.Options{})
	if err != nil {
		return err
	}
	if err := env.Apply(admin, "deploy/namespace.yaml", "deploy/rbac.yaml"); err != nil {
		return err
	}
	c, err := benchClient(env)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "kubebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	kubeconfig, err := env.Kubeconfig(dir, "system:serviceaccount:gluon-system:gluon", "system:serviceaccounts")
	if err != nil {
		return err
	}
	addrs := benchkit.FreeAddrs(4)
	cmd := exec.Command(gluon, "serve", "--kubeconfig", kubeconfig, "--dataplane", "none", "--state-dir", filepath.Join(dir, "state"),
		"--xds-addr", addrs[0], "--admin-addr", addrs[1], "--ratelimit-addr", addrs[2],
		"--webhook-addr", addrs[3], "--webhook-url", "https://"+addrs[3], "--webhook-failure-policy", "Fail")
	logs, err := os.Create(filepath.Join(os.TempDir(), "kubebench-gluon.log"))
	if err != nil {
		return err
	}
	defer logs.Close()
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := benchkit.WaitReady(ctx, "http://"+addrs[1]+"/readyz"); err != nil {
		return err
	}
	xds, err := xdsclient.Dial(ctx, addrs[0], "kubebench", "gateway-proxy")
	if err != nil {
		return err
	}
	rows, err := measureServices(ctx, c, xds, services)
	if err != nil {
		return err
	}
	eds, err := measureEDS(ctx, c, xds, addrs[1], min(services, 100), edsRounds)
	if err != nil {
		return err
	}
	rows = append(rows, eds...)
	adm, err := measureAdmission(ctx, c, services)
	if err != nil {
		return err
	}
	rows = append(rows, adm...)
	benchkit.PrintTable(rows)
	return nil
}
