package filesource

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gluon-gateway/gluon/api"
)

// memoryState is a StateStore in memory, as a restart sees a file.
type memoryState struct{ data []byte }

func (m *memoryState) Load() ([]byte, error) {
	if m.data == nil {
		return nil, fs.ErrNotExist
	}
	return m.data, nil
}

func (m *memoryState) Save(b []byte) error { m.data = append([]byte(nil), b...); return nil }

func TestANewFileDoesNotDisplaceAServingResource(t *testing.T) {
	dir := t.TempDir()
	l := newLoader(t, dir)
	write(t, dir, "petstore.yaml", upstream("a", "1"))
	load(t, l)
	// Sorts before petstore.yaml: first-in-the-directory would have won.
	write(t, dir, "0-new.yaml", upstream("a", "2"))
	s := load(t, l)
	if got := ports(s); got["a"] != 1 {
		t.Fatalf("got %v, want the serving definition (port 1)", got)
	}
	rep := s.Reports[api.Key{Kind: api.KindUpstream, Namespace: "default", Name: "a"}]
	if rep.State != api.Rejected || !strings.Contains(rep.Reasons()[0], "0-new.yaml: duplicate") || !strings.Contains(rep.Reasons()[0], "petstore.yaml, which serves it") {
		t.Fatalf("report: %+v", rep)
	}
	// Once the serving file lets it go, the other definition takes over.
	os.Remove(filepath.Join(dir, "petstore.yaml"))
	if got := ports(load(t, l)); got["a"] != 2 {
		t.Fatalf("after the owner left: %v", got)
	}
}

func TestLastGoodVersionsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	state := &memoryState{}
	l, err := NewLoader(dir, state)
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "a.yaml", upstream("a", "1"))
	first := load(t, l)
	born := first.Resources.Upstreams[0].CreationTimestamp

	// Broken while the process is down: a restarted loader still serves
	// the last good version, and keeps the resource's age.
	write(t, dir, "a.yaml", upstream("a", "1")+"  extra: [unclosed\n")
	restarted, err := NewLoader(dir, state)
	if err != nil {
		t.Fatal(err)
	}
	s := load(t, restarted)
	if got := ports(s); got["a"] != 1 {
		t.Fatalf("after restart: %v, want the last good version", got)
	}
	if !s.Resources.Upstreams[0].CreationTimestamp.Equal(&born) {
		t.Errorf("age after restart: %v, want %v", s.Resources.Upstreams[0].CreationTimestamp, born)
	}
	if rep := s.Reports[api.Key{Kind: "File", Name: "a.yaml"}]; rep == nil || rep.State != api.Rejected {
		t.Fatalf("the broken file is not reported: %+v", s.Reports)
	}
}

func TestCorruptStateIsAnError(t *testing.T) {
	if _, err := NewLoader(t.TempDir(), &memoryState{data: []byte("{not json")}); err == nil {
		t.Fatal("a corrupt state was accepted")
	}
}
