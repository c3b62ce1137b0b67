package controlplane

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/fds"
	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
	"github.com/gluon-gateway/gluon/functions"
)

func upstream(name, label string, port uint32) *api.Upstream {
	u := &api.Upstream{Spec: api.UpstreamSpec{Static: &api.StaticUpstream{Hosts: []api.Host{{Addr: "127.0.0.1", Port: port}}}}}
	u.Name, u.Namespace = name, "default"
	if label != "" {
		u.Labels = map[string]string{api.FunctionDiscoveryLabel: label}
	}
	return u
}

func TestDiscoveryModes(t *testing.T) {
	cases := []struct {
		mode, label string
		want        bool
	}{
		{api.FDSBlacklist, "", true}, {api.FDSBlacklist, "disabled", false}, {api.FDSBlacklist, "enabled", true},
		{api.FDSWhitelist, "", false}, {api.FDSWhitelist, "enabled", true},
		{api.FDSDisabled, "", false}, {api.FDSDisabled, "enabled", false},
	}
	for _, c := range cases {
		if got := discovers(c.mode, upstream("u", c.label, 80)); got != c.want {
			t.Errorf("mode %s label %q: %v, want %v", c.mode, c.label, got, c.want)
		}
	}
}

func TestPollerFollowsUpstreamAndRecovers(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	store := petstore.Handler(petstore.Swagger2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		store.ServeHTTP(w, r)
	}))
	defer srv.Close()
	_, port, _ := splitPort(srv.URL)
	c := functions.NewCatalog()
	d := fds.NewPoller(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	settings := &api.Settings{Spec: api.SettingsSpec{Discovery: &api.DiscoverySettings{PollInterval: &metav1.Duration{Duration: 100 * time.Millisecond}}}}
	syncDiscovery(ctx, d, api.Resources{Upstreams: []*api.Upstream{upstream("petstore", "", port)}, Settings: settings})
	ref := functions.UpstreamRef{Namespace: "default", Name: "petstore"}
	waitUntil(t, func() bool { return c.Snapshot()[ref].Error != "" })
	failing.Store(false)
	waitUntil(t, func() bool { e := c.Snapshot()[ref]; return e.Error == "" && len(e.Functions) == 5 })
	// The upstream leaves the config: its poller stops and its entry goes.
	syncDiscovery(ctx, d, api.Resources{Settings: settings})
	waitUntil(t, func() bool { _, ok := c.Snapshot()[ref]; return !ok })
}

// TestBadDocumentsWaitForThePollInterval: a hostile document used to be
// fetched and parsed again with a 1 s back-off (a 9 MB one 6 times in
// 75 s); a bad document waits for the poll interval, like a good one.
func TestBadDocumentsWaitForThePollInterval(t *testing.T) {
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/swagger.json" {
			http.NotFound(w, r)
			return
		}
		gets.Add(1)
		w.Write([]byte(`{"openapi": "3.0.0", "paths": {"/a": {"get": "not an operation"}}}`))
	}))
	defer srv.Close()
	_, port, _ := splitPort(srv.URL)
	c := functions.NewCatalog()
	d := fds.NewPoller(c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	syncDiscovery(ctx, d, api.Resources{Upstreams: []*api.Upstream{upstream("hostile", "", port)}})
	ref := functions.UpstreamRef{Namespace: "default", Name: "hostile"}
	waitUntil(t, func() bool { return c.Snapshot()[ref].Error != "" })
	time.Sleep(3500 * time.Millisecond) // a 1 s back-off would fetch at 1, 3 s
	if n := gets.Load(); n != 1 {
		t.Fatalf("the bad document was fetched %d times in 3.5 s; the poll interval is 30 s", n)
	}
}

// syncDiscovery makes d poll what res says to, as the pipeline does.
func syncDiscovery(ctx context.Context, d *fds.Poller, res api.Resources) {
	targets, interval := discoveryTargets(res)
	d.Sync(ctx, targets, interval)
}

func splitPort(url string) (string, uint32, error) {
	u, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	var port uint32
	for _, ch := range u.URL.Port() {
		port = port*10 + uint32(ch-'0')
	}
	return u.URL.Hostname(), port, nil
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenAPILimitsFromSettings: the Settings' document limits reach the
// target, and changing them changes its key (its poller restarts with
// them).
func TestOpenAPILimitsFromSettings(t *testing.T) {
	ref := functions.UpstreamRef{Namespace: "default", Name: "petstore"}
	res := api.Resources{Upstreams: []*api.Upstream{upstream("petstore", "", 8080)}}
	before, _ := discoveryTargets(res)
	res.Settings = &api.Settings{Spec: api.SettingsSpec{Discovery: &api.DiscoverySettings{
		OpenAPI: &api.OpenAPIDiscoverySettings{MaxDocumentBytes: 64 << 20, MaxOperations: 20_000}}}}
	after, _ := discoveryTargets(res)
	if before[ref].Key == after[ref].Key || !strings.Contains(after[ref].Key, "MaxBytes:67108864 MaxOperations:20000") {
		t.Fatalf("keys %q and %q", before[ref].Key, after[ref].Key)
	}
}
