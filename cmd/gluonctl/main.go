// Command gluonctl is Gluon's command line, in the manner of glooctl: it
// edits resources in a config directory (file mode) and reads the control
// plane's admin endpoint for status.
package main

import (
	"cmp"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gluon-gateway/gluon/cmd/internal/demofile"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newRoot(os.Stdin, os.Stdout, os.Stderr).Execute(); err != nil {
		fmt.Fprintln(terminalSafe{os.Stderr}, "gluonctl:", err)
		os.Exit(exitCode(err))
	}
}

func newRoot(in io.Reader, out, errOut io.Writer) *cobra.Command {
	out, errOut = terminalSafe{out}, terminalSafe{errOut}
	o := &options{in: in, out: out, errOut: errOut}
	root := &cobra.Command{
		Use:           "gluonctl",
		Short:         "Manage Gluon: upstreams, functions, routes, and the control plane's status",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	f := root.PersistentFlags()
	f.StringVarP(&o.output, "output", "o", "table", "output format: table, yaml or json")
	// A running `gluon demo` is found without flags: its record says where.
	demo, _ := demofile.Read()
	f.StringVar(&o.configDir, "config-dir", envOr("GLUON_CONFIG_DIR", demo.ConfigDir), "the config directory gluon serve watches (file mode; env GLUON_CONFIG_DIR; default a running gluon demo's)")
	f.StringVar(&o.adminAddr, "admin-addr", envOr("GLUON_ADMIN_ADDR", cmp.Or(demo.AdminAddr, "127.0.0.1:9976")), "the control plane's admin address (env GLUON_ADMIN_ADDR; default a running gluon demo's)")
	f.StringVar(&o.adminTokenFile, "admin-token-file", os.Getenv("GLUON_ADMIN_TOKEN_FILE"), "file holding the admin endpoint's bearer token (env GLUON_ADMIN_TOKEN_FILE)")
	f.StringVar(&o.adminCA, "admin-ca", os.Getenv("GLUON_ADMIN_CA"), "PEM CA bundle of an admin endpoint served over TLS (env GLUON_ADMIN_CA; turns on https)")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "Kubernetes mode: the cluster's kubeconfig")
	f.StringVar(&o.consulAddr, "consul-addr", envOr("GLUON_CONSUL_ADDR", demo.ConsulAddr), "Consul mode: the Consul agent whose KV store gluon serve --consul-prefix reads (env GLUON_CONSUL_ADDR; default a running gluon demo --consul's)")
	f.StringVar(&o.consulPrefix, "consul-prefix", envOr("GLUON_CONSUL_PREFIX", "gluon/"), "Consul mode: the KV prefix of the resources (env GLUON_CONSUL_PREFIX)")
	f.StringVarP(&o.namespace, "namespace", "n", "default", "namespace of the resources")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the resulting YAML instead of writing it")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "prompt for what flags leave out")
	root.AddCommand(
		createCommand(o), addCommand(o), removeCommand(o), routeCommand(o), deleteCommand(o),
		editCommand(o), getCommand(o), checkCommand(o), proxyCommand(o), versionCommand(o),
	)
	return root
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func versionCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print gluonctl's version",
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(o.out, "gluonctl %s\n", version)
			return err
		},
	}
}
