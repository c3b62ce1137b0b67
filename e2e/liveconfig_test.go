package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/api"
)

const gatewayYAML = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: a}
spec: {static: {hosts: [{addr: 127.0.0.1, port: A_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: b}
spec: {static: {hosts: [{addr: 127.0.0.1, port: B_PORT}]}}
`

// vsYAML routes a prefix to an upstream, for a virtual service of its own domain.
func vsYAML(name, domain, prefix, upstream string) string {
	return `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: ` + name + `}
spec:
  virtualHost:
    domains: ["` + domain + `"]
    routes:
    - matchers: [{prefix: ` + prefix + `}]
      routeAction: {single: {upstream: {name: ` + upstream + `}}}
`
}

// setup starts two backends and a control plane with the gateway file.
func setup(t *testing.T, dataplane string) (base string, cp *controlPlane, a, b *backend) {
	a, b = startBackend(t, "a", nil), startBackend(t, "b", nil)
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "gateway.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "A_PORT", a.port(), "B_PORT", b.port()).Replace(gatewayYAML))
	writeFile(t, dir, "one.yaml", vsYAML("one", "one.test", "/", "a"))
	writeFile(t, dir, "two.yaml", vsYAML("two", "two.test", "/", "a"))
	cp = startServe(t, dir, t.TempDir(), dataplane)
	return "http://" + gw, cp, a, b
}

func reaches(t *testing.T, url, host, backend string) bool {
	code, body := get(t, url, map[string]string{"Host": host})
	return code == 200 && strings.HasPrefix(body, backend+" ")
}

func TestEditAppliesWithinOneSecond(t *testing.T) {
	base, cp, _, _ := setup(t, "embedded")
	waitFor(t, 10*time.Second, "initial config", func() bool { return reaches(t, base+"/x", "one.test", "a") })
	writeFile(t, cp.configDir, "one.yaml", vsYAML("one", "one.test", "/", "b"))
	took := waitFor(t, time.Second, "edit served", func() bool { return reaches(t, base+"/x", "one.test", "b") })
	t.Logf("edit served after %s", took)
}

func TestBrokenFileKeepsEverythingElseServing(t *testing.T) {
	base, cp, _, _ := setup(t, "embedded")
	waitFor(t, 10*time.Second, "initial config", func() bool { return reaches(t, base+"/x", "two.test", "a") })

	// Break one.yaml (a YAML syntax error) and add a file with an invalid
	// resource; change two.yaml so we know the broken state was applied.
	writeFile(t, cp.configDir, "one.yaml", "apiVersion: gluon.dev/v1\nkind: VirtualService\nmetadata: {name: one}\nspec: [unclosed\n")
	writeFile(t, cp.configDir, "bad.yaml", vsYAML("bad", "bad.test", "no-slash", "a"))
	writeFile(t, cp.configDir, "two.yaml", vsYAML("two", "two.test", "/", "b"))
	waitFor(t, 5*time.Second, "two.yaml edit", func() bool { return reaches(t, base+"/x", "two.test", "b") })

	if !reaches(t, base+"/x", "one.test", "a") {
		t.Error("the broken file's virtual service stopped serving its last good version")
	}
	// The three writes may reach the source in separate batches: wait (well
	// within the 1 s an edit may take) until both broken files are reported.
	waitFor(t, time.Second, "broken files in /statusz", func() bool {
		_, body := get(t, "http://"+cp.admin+"/statusz", nil)
		return strings.Count(body, `"state": "Rejected"`) >= 2
	})
	var st struct {
		Reports []struct {
			Resource struct{ Kind, Namespace, Name string }
			Origin   string
			State    string
			Problems []api.Problem
		}
	}
	_, body := get(t, "http://"+cp.admin+"/statusz", nil)
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("statusz: %v\n%s", err, body)
	}
	want := map[string]string{"one": "one.yaml", "bad": "bad.yaml"}
	for _, r := range st.Reports {
		file, ok := want[r.Resource.Name]
		if !ok || r.Resource.Kind != "VirtualService" {
			continue
		}
		reasons := fmt.Sprint(r.Problems)
		if r.State != "Rejected" || !strings.Contains(r.Origin, file) || len(r.Problems) == 0 || len(reasons) < 20 {
			t.Errorf("report for %s: %+v", r.Resource.Name, r)
		}
		delete(want, r.Resource.Name)
	}
	if len(want) > 0 {
		t.Errorf("no /statusz report for %v:\n%s", want, body)
	}
	if !strings.Contains(body, "spec.virtualHost.routes[0].matchers[0].prefix") {
		t.Errorf("/statusz does not name the bad field:\n%s", body)
	}
}
