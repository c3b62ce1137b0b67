package controlplane

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestJWKSProbe: a JWKS that cannot be fetched is a failure, named with
// why, until it can; one fetched once is not fetched again; one no longer
// configured is forgotten.
func TestJWKSProbe(t *testing.T) {
	var up atomic.Bool
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if !up.Load() || r.Host != "idp.test" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"keys": [{"kty": "EC", "crv": "P-256", "x": "x", "y": "y"}]}`))
	}))
	defer srv.Close()
	var changes atomic.Int32
	p := newJWKSProbe(func(context.Context) { changes.Add(1) })
	p.retry = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	target := jwksTarget{url: "http://idp.test/jwks.json", addr: srv.Listener.Addr().String()}
	p.sync(ctx, map[jwksTarget]bool{target: true})
	waitUntil(t, func() bool { return strings.Contains(p.failures()[target.url], "status 404") })
	up.Store(true)
	waitUntil(t, func() bool { return len(p.failures()) == 0 && changes.Load() == 2 })
	n := fetches.Load()
	p.sync(ctx, map[jwksTarget]bool{target: true})
	time.Sleep(100 * time.Millisecond)
	if fetches.Load() != n {
		t.Errorf("a JWKS fetched once was fetched again")
	}
	p.sync(ctx, map[jwksTarget]bool{})
	if len(p.results) != 0 {
		t.Errorf("results of targets no longer configured: %v", p.results)
	}
}
