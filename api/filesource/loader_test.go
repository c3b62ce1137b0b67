package filesource

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gluon-gateway/gluon/api"
)

func upstream(name string, port string) string {
	return "apiVersion: gluon.dev/v1\nkind: Upstream\nmetadata: {name: " + name + "}\nspec: {static: {hosts: [{addr: 127.0.0.1, port: " + port + "}]}}\n"
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, l *Loader) Snapshot {
	t.Helper()
	s, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ports(s Snapshot) map[string]uint32 {
	out := map[string]uint32{}
	for _, u := range s.Resources.Upstreams {
		out[u.Name] = u.Spec.Static.Hosts[0].Port
	}
	return out
}

func TestMultiDocumentAndSubdirectories(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", upstream("a", "1")+"---\n# just a comment\n---\n"+upstream("b", "2"))
	write(t, dir, "sub/c.yml", upstream("c", "3"))
	write(t, dir, ".hidden/d.yaml", upstream("d", "4"))
	write(t, dir, "notes.txt", "not config")
	got := ports(load(t, newLoader(t, dir)))
	if len(got) != 3 || got["a"] != 1 || got["b"] != 2 || got["c"] != 3 {
		t.Fatalf("got %v", got)
	}
}

func TestBrokenDocumentKeepsLastGoodVersion(t *testing.T) {
	dir := t.TempDir()
	l := newLoader(t, dir)
	write(t, dir, "a.yaml", upstream("a", "1")+"---\n"+upstream("b", "2"))
	load(t, l)
	// b becomes invalid (port 0) but stays identifiable: its last good
	// version is kept; a's edit still applies.
	write(t, dir, "a.yaml", upstream("a", "10")+"---\n"+upstream("b", "0"))
	s := load(t, l)
	if got := ports(s); got["a"] != 10 || got["b"] != 2 {
		t.Fatalf("got %v, want a=10 (edited) and b=2 (last good)", got)
	}
	rep := s.Reports[api.Key{Kind: api.KindUpstream, Namespace: "default", Name: "b"}]
	if rep == nil || rep.State != api.Rejected || rep.Origin != "a.yaml#1" ||
		!strings.Contains(strings.Join(rep.Reasons(), ""), "spec.static.hosts[0].port") ||
		!strings.Contains(strings.Join(rep.Reasons(), ""), "last good") {
		t.Fatalf("report for b: %+v", rep)
	}
}

func TestUnparseableFileKeepsItsResources(t *testing.T) {
	dir := t.TempDir()
	l := newLoader(t, dir)
	write(t, dir, "a.yaml", upstream("a", "1"))
	write(t, dir, "other.yaml", upstream("o", "5"))
	load(t, l)
	write(t, dir, "a.yaml", "kind: [this is not\n")
	s := load(t, l)
	if got := ports(s); got["a"] != 1 || got["o"] != 5 {
		t.Fatalf("got %v", got)
	}
	rep := s.Reports[api.Key{Kind: "File", Name: "a.yaml"}]
	if rep == nil || rep.State != api.Rejected || rep.Origin != "a.yaml#0" || rep.Problems[0].Code != api.InvalidDocument {
		t.Fatalf("file report: %+v", rep)
	}
	// Deleting the file removes its resources.
	os.Remove(filepath.Join(dir, "a.yaml"))
	if got := ports(load(t, l)); len(got) != 1 {
		t.Fatalf("after delete: %v", got)
	}
}

func TestNewBrokenResourceIsRejectedWithoutLastGood(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "a.yaml", upstream("a", "99999"))
	s := load(t, newLoader(t, dir))
	if len(s.Resources.Upstreams) != 0 {
		t.Fatal("invalid upstream served")
	}
	if rep := s.Reports[api.Key{Kind: api.KindUpstream, Namespace: "default", Name: "a"}]; rep == nil || rep.State != api.Rejected {
		t.Fatalf("report: %+v", rep)
	}
}

func TestDuplicateIsRejected(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "1.yaml", upstream("a", "1"))
	write(t, dir, "2.yaml", upstream("a", "2"))
	s := load(t, newLoader(t, dir))
	if got := ports(s); got["a"] != 1 {
		t.Fatalf("got %v, want the first definition", got)
	}
	rep := s.Reports[api.Key{Kind: api.KindUpstream, Namespace: "default", Name: "a"}]
	if rep.State != api.Rejected || !strings.Contains(rep.Reasons()[0], "duplicate") {
		t.Fatalf("report: %+v", rep)
	}
}

func TestMissingDirectory(t *testing.T) {
	if _, err := newLoader(t, filepath.Join(t.TempDir(), "nope")).Load(); err == nil {
		t.Fatal("want an error for a missing directory")
	}
}

func newLoader(t *testing.T, dir string) *Loader {
	t.Helper()
	l, err := NewLoader(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
