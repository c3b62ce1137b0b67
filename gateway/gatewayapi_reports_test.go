package gateway

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/gluon-gateway/gluon/api"
)

// TestFoldingReadsCodesAndPathsNotMessages folds a generated virtual
// service's report twice, once with every message renamed: which HTTPRoute
// gets a problem, a note or nothing, and with which reason, must not
// change. The old fold found routes by matching "route N" in messages.
func TestFoldingReadsCodesAndPathsNotMessages(t *testing.T) {
	fold := func(rename func(string) string, state api.State) []*routeState {
		a, b := &routeState{key: types.NamespacedName{Namespace: "default", Name: "a"}}, &routeState{key: types.NamespacedName{Namespace: "default", Name: "b"}}
		origins := []matchOrigin{{route: a}, {route: b, match: 1}, {route: b, match: 2}}
		rep := &api.Report{State: state, Problems: []api.Problem{
			{Code: api.FunctionNotFound, Path: "spec.virtualHost.routes[1]", Message: rename("route 0: function x not found")},
			{Code: api.RouteShadowed, Path: "spec.virtualHost.routes[2]", Related: "spec.virtualHost.routes[1]", Message: rename("unreachable")},
			{Code: api.DomainConflict, Path: "spec.virtualHost.domains", Message: rename("route 2 conflicts")},
		}}
		foldVirtualService(rep, origins)
		return []*routeState{a, b}
	}
	same := func(s string) string { return s }
	renamed := func(string) string { return "renamed" }
	for _, state := range []api.State{api.Rejected, api.Warning} {
		want, got := fold(same, state), fold(renamed, state)
		for i := range want {
			if len(want[i].problems) != len(got[i].problems) || len(want[i].notes) != len(got[i].notes) {
				t.Fatalf("%s: route %d: %d problems, %d notes; renamed: %d, %d", state, i,
					len(want[i].problems), len(want[i].notes), len(got[i].problems), len(got[i].notes))
			}
			for j := range want[i].problems {
				if want[i].problems[j].reason != got[i].problems[j].reason {
					t.Errorf("%s: route %d problem %d: reason %s, renamed %s", state, i, j, want[i].problems[j].reason, got[i].problems[j].reason)
				}
			}
		}
		// Route a is named by no path: only the whole-host problem reaches it.
		a := want[0]
		if n := len(a.problems) + len(a.notes); n != 1 || !strings.Contains(strings.Join(append(a.notes, messagesOf(a.problems)...), ""), "conflicts") {
			t.Errorf("%s: route a got %+v", state, a)
		}
		b := got[1]
		if n := len(b.problems) + len(b.notes); n != 3 {
			t.Errorf("%s: route b got %d problems and notes, want 3", state, n)
		}
	}
}

func messagesOf(ps []routeProblem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.message)
	}
	return out
}
