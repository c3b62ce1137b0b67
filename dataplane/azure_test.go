package dataplane

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	golangv3alpha "github.com/envoyproxy/go-control-plane/contrib/envoy/extensions/filters/http/golang/v3alpha"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/envoy-filters/azure"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/azurewire"
)

// azureRoute gives a route the per-route config of gluon.azure_functions.
func azureRoute(t testing.TB, r *routev3.Route, name, cfg string) *routev3.Route {
	r.Name = name
	rp := &golangv3alpha.RouterPlugin{Override: &golangv3alpha.RouterPlugin_Config{Config: typedStruct(t, azurewire.RouteType, cfg)}}
	cpr := &golangv3alpha.ConfigsPerRoute{PluginsConfig: map[string]*golangv3alpha.RouterPlugin{azure.PluginName: rp}}
	r.TypedPerFilterConfig = map[string]*anypb.Any{azure.PluginName: mustAny(t, cpr)}
	return r
}

func azureFn(upstream, fn, path, level string) string {
	return fmt.Sprintf(`{"upstream": %q, "functionName": %q, "path": %q, "host": "app.azurewebsites.net", "authLevel": %q}`, upstream, fn, path, level)
}

func TestAzureFunctions(t *testing.T) {
	e := newEnv(t)
	app := backend(t, "app")
	rc := routeConfig("rc", vhost("all", []string{"*"},
		azureRoute(t, prefixRoute("/orders/", "app"), "orders", azureFn("default/app", "orders", "/api/orders/42", "function")),
		azureRoute(t, prefixRoute("/hosted/", "app"), "hosted", azureFn("default/app", "other", "/api/other", "function")),
		azureRoute(t, prefixRoute("/admin/", "app"), "admin", azureFn("default/app", "orders", "/admin/functions", "admin")),
		azureRoute(t, prefixRoute("/open/", "app"), "open", azureFn("default/app", "open", "/api/open", "anonymous")),
		azureRoute(t, prefixRoute("/nokeys/", "app"), "nokeys", azureFn("default/unknown", "orders", "/api/orders", "function")),
		prefixRoute("/plain/", "app"),
	))
	r := e.basic(rc, map[string]*httptest.Server{"app": app})
	r.listeners = []types.Resource{httpListener(t, "http", e.port, rc.Name,
		pluginFilter(t, azure.PluginName, azurewire.ListenerType, `{"keys": {"default/app": {"functionKeys": {"orders": "fn-key"}, "hostKey": "host-key", "masterKey": "master-key"}}}`),
		routerFilter(t))}
	e.push(r)

	client := http.Header{"X-Functions-Key": {"client-key"}}
	for _, tc := range []struct{ path, wantURI, wantKey string }{
		{"/orders/42?expand=items&x=1", "/api/orders/42?expand=items&x=1", "fn-key"},
		{"/hosted/", "/api/other", "host-key"},
		{"/admin/", "/admin/functions", "master-key"},
		{"/open/x?q=1", "/api/open?q=1", ""},
		{"/plain/x", "/plain/x", "client-key"}, // no config: untouched
	} {
		s, _ := e.call("GET", "", tc.path, client, 200)
		if s.URI != tc.wantURI || s.Header.Get("X-Functions-Key") != tc.wantKey {
			t.Errorf("%s: app saw %s with key %q, want %s with %q", tc.path, s.URI, s.Header.Get("X-Functions-Key"), tc.wantURI, tc.wantKey)
		}
		if tc.path != "/plain/x" && s.Host != "app.azurewebsites.net" {
			t.Errorf("%s: app saw host %q", tc.path, s.Host)
		}
	}

	s, _ := e.call("GET", "", "/nokeys/", client, http.StatusBadGateway)
	if !strings.Contains(s.Body, "no key for function orders") {
		t.Errorf("unknown upstream: %q", s.Body)
	}
}
