package controlplane

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/filesource"
	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/xds/server"
)

// TestElectedDiscoveryRunsOnlyWhileLeading checks the replica contract:
// a follower polls nothing and serves the leader's catalog; while it
// leads it polls and ignores published catalogs; when it stops leading
// its pollers stop and what they found stays.
func TestElectedDiscoveryRunsOnlyWhileLeading(t *testing.T) {
	srv := httptest.NewServer(petstore.Handler(petstore.Swagger2))
	defer srv.Close()
	_, port, _ := splitPort(srv.URL)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := New(server.New("", log), log)
	p.ElectDiscovery()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ref := functions.UpstreamRef{Namespace: "default", Name: "petstore"}
	p.Apply(ctx, filesource.Snapshot{Resources: api.Resources{Upstreams: []*api.Upstream{upstream("petstore", "", port)}}}, nil)

	time.Sleep(300 * time.Millisecond)
	if n := len(p.Catalog().Snapshot()); n != 0 {
		t.Fatalf("a follower discovered %d upstreams itself", n)
	}
	published := functions.Snapshot{ref: {Upstream: ref, Source: "the leader's"}}
	p.TakeCatalog(published)
	if got := p.Catalog().Snapshot()[ref].Source; got != "the leader's" {
		t.Fatalf("follower's catalog source %q, want the leader's", got)
	}

	leadCtx, stopLeading := context.WithCancel(ctx)
	led := make(chan struct{})
	go func() { p.Lead(leadCtx); close(led) }()
	deadline := time.Now().Add(10 * time.Second)
	for p.Catalog().Snapshot()[ref].Source == "the leader's" {
		if time.Now().After(deadline) {
			t.Fatal("the leader did not discover the petstore")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.TakeCatalog(functions.Snapshot{})
	if len(p.Catalog().Snapshot()[ref].Functions) == 0 {
		t.Fatal("a leader took a published catalog over its own discovery")
	}
	stopLeading()
	<-led
	if len(p.Catalog().Snapshot()[ref].Functions) == 0 {
		t.Fatal("what the leader found was dropped when it stopped leading")
	}
	p.TakeCatalog(published)
	if got := p.Catalog().Snapshot()[ref].Source; got != "the leader's" {
		t.Fatalf("after leading, catalog source %q: a follower again takes the leader's", got)
	}
}
