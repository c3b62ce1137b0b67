package main

import (
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/dataplane"
)

// dataplaneCommand runs the embedded data plane on its own, against any
// xDS server, the way an Envoy would run next to a control plane.
func dataplaneCommand() *cobra.Command {
	var o dataplane.Options
	var xdsTLS tlsFiles
	var serverName, adminAddr string
	cmd := &cobra.Command{
		Use:   "dataplane",
		Short: "Run only the Go data plane, fed over xDS by a control plane",
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Logger = newLogger()
			if xdsTLS.enabled() {
				if serverName == "" {
					serverName, _, _ = net.SplitHostPort(o.XDSAddress)
				}
				cfg, err := xdsTLS.clientConfig(serverName)
				if err != nil {
					return err
				}
				o.TLS = cfg
			}
			dp := dataplane.New(o)
			if adminAddr != "" {
				stop, err := serveStats(adminAddr, dp.MetricsHandler(), o.Logger)
				if err != nil {
					return err
				}
				defer stop()
			}
			return dp.Run(cmd.Context())
		},
	}
	host, _ := os.Hostname()
	f := cmd.Flags()
	f.StringVar(&o.XDSAddress, "xds-addr", "127.0.0.1:9977", "address of the control plane's xDS server")
	f.StringVar(&o.Proxy, "proxy", api.DefaultProxyName, "the proxy whose config to serve")
	f.StringVar(&o.NodeID, "node-id", "gluon-dataplane-"+host, "the node id sent to the control plane")
	f.StringVar(&xdsTLS.cert, "xds-tls-cert", "", "PEM client certificate presented to the xDS server (its URI SAN names the proxy)")
	f.StringVar(&xdsTLS.key, "xds-tls-key", "", "PEM private key of --xds-tls-cert")
	f.StringVar(&xdsTLS.ca, "xds-ca", "", "PEM CA bundle that verifies the xDS server (turns on TLS)")
	f.StringVar(&serverName, "xds-server-name", "", "name the xDS server's certificate must carry (default: the host of --xds-addr)")
	f.StringVar(&adminAddr, "admin-addr", "", "address serving the statistics, as Envoy's admin does (/stats/prometheus, also /metrics); off when empty")
	var stats bool
	f.BoolVar(&stats, "stats", true, "count the statistics (--stats=false saves their cost per request)")
	cmd.PreRun = func(*cobra.Command, []string) { o.NoStats = !stats }
	return cmd
}
