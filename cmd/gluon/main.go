// Command gluon is Gluon's control plane: it reads config, translates it to
// xDS and serves it, by default together with the embedded data plane.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "gluon",
		Short:         "Gluon: a multi-cloud function gateway (control plane + embedded data plane)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCommand(), dataplaneCommand(), demoCommand())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gluon:", err)
		os.Exit(1)
	}
}
