package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/dataplane"
)

// dataplaneCommand runs the embedded data plane on its own, against any
// xDS server, the way an Envoy would run next to a control plane.
func dataplaneCommand() *cobra.Command {
	var o dataplane.Options
	cmd := &cobra.Command{
		Use:   "dataplane",
		Short: "Run only the Go data plane, fed over xDS by a control plane",
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Logger = newLogger()
			return dataplane.New(o).Run(cmd.Context())
		},
	}
	host, _ := os.Hostname()
	f := cmd.Flags()
	f.StringVar(&o.XDSAddress, "xds-addr", "127.0.0.1:9977", "address of the control plane's xDS server")
	f.StringVar(&o.Proxy, "proxy", api.DefaultProxyName, "the proxy whose config to serve")
	f.StringVar(&o.NodeID, "node-id", "gluon-dataplane-"+host, "the node id sent to the control plane")
	return cmd
}
