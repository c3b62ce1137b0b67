package ir

import (
	"strings"
	"testing"
)

// regexRouteError validates a route matching pattern, to cluster c.
func regexRouteError(pattern string) error {
	r := &Route{Name: "r", Match: Match{PathRegex: pattern}, Forward: &Forward{Destinations: []Destination{{Cluster: "c", Weight: 1}}}}
	return r.Validate(map[string]bool{"c": true})
}

// The verdict memo must give a bad regex the same error every time, not
// only the first time it is seen.
func TestValidateRegexVerdictRemembered(t *testing.T) {
	for range 2 {
		err := regexRouteError("/a/(b")
		if err == nil || !strings.Contains(err.Error(), `route "r"`) || !strings.Contains(err.Error(), "missing closing )") {
			t.Fatalf("Validate() = %v, want the route's regex error", err)
		}
		if err := regexRouteError("/a/(b)"); err != nil {
			t.Fatalf("Validate() of a good regex = %v", err)
		}
	}
}

func TestVerdictMemoBounded(t *testing.T) {
	memo := verdictMemo{limit: 2}
	for _, re := range []string{"a", "b(", "c", "d"} {
		_ = memo.check(re)
		if len(memo.verdicts) > memo.limit {
			t.Fatalf("memo holds %d verdicts, limit %d", len(memo.verdicts), memo.limit)
		}
	}
	if memo.check("b(") == nil {
		t.Error(`check("b(") = nil after the memo was cleared, want a syntax error`)
	}
}
