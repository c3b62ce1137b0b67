package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gluon-gateway/gluon/api"
)

// checkCommand lists everything wrong: rejected and warned resources with
// their reasons, translation errors, and xDS clients that did not ACK the
// version they are served. It exits 1 when it found anything.
func checkCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Check the control plane, the resources and the connected proxies; exit 1 on problems",
		RunE: func(*cobra.Command, []string) error {
			st, err := o.statusOrCluster()
			if err != nil {
				return err
			}
			problems := writeCheck(o.out, st)
			if problems > 0 {
				return fmt.Errorf("%d problem(s) found: %w", problems, errProblems)
			}
			return nil
		},
	}
}

func writeCheck(w io.Writer, st *statusDoc) int {
	problems := 0
	say := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	if !st.Ready {
		say("Control plane: not ready (no good snapshot yet)")
		problems++
	} else {
		say("Control plane: ready")
	}
	reports := append([]api.Report{}, st.Reports...)
	sort.Slice(reports, func(i, j int) bool { return reports[i].Key.String() < reports[j].Key.String() })
	bad := 0
	for _, r := range reports {
		if r.State == api.Accepted {
			continue
		}
		bad++
		where := ""
		if r.Origin != "" {
			where = " (" + r.Origin + ")"
		}
		say("%s %s%s:", r.State, r.Key, where)
		for _, reason := range r.Reasons() {
			say("  - %s", reason)
		}
	}
	if bad == 0 {
		say("Resources: %d, all accepted", len(reports))
	}
	problems += bad
	for _, e := range st.Errors {
		say("Translation error: %s", e)
		problems++
	}
	served := map[string]map[string]string{}
	for _, s := range st.Snapshots {
		served[s.Proxy] = s.Versions
	}
	switch {
	case st.storedIn != "":
		say("xDS clients: unknown (read from %s; give --admin-addr for clients)", st.storedIn)
	case len(st.Clients) == 0:
		say("xDS clients: none connected")
	}
	for _, c := range st.Clients {
		summary := ackSummary(c, served[c.Proxy])
		say("xDS client %s (proxy %s):%s", c.NodeID, c.Proxy, summary)
		if !strings.Contains(summary, "up to date") {
			problems++
		}
	}
	return problems
}
