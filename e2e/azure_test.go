package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/azure/standin"
)

const azureClientSecret = "e2e-azure-client-secret-never-shown"

const azureConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Settings
metadata: {name: settings}
spec: {discovery: {pollInterval: 1s}}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: azure-sp}
spec: {azure: {clientSecret: CLIENT_SECRET}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: shop}
spec:
  azure: &app
    functionAppName: shop
    subscriptionId: SUBSCRIPTION
    resourceGroup: GROUP
    clientSecret: {tenantId: TENANT, clientId: gluon-client, secretRef: {name: azure-sp}}
    armEndpoint: ARM_URL
    authorityHost: ARM_URL/
    appHost: HOST_URL
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: secure}
spec:
  azure:
    functionAppName: secure
    subscriptionId: SUBSCRIPTION
    resourceGroup: GROUP
    clientSecret: {tenantId: TENANT, clientId: gluon-client, secretRef: {name: azure-sp}}
    appAuthentication: true
    armEndpoint: ARM_URL
    authorityHost: ARM_URL/
    appHost: HOST_URL
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: azure}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /shop/hello}]
      routeAction: {single: {upstream: {name: shop}, destinationSpec: {azure: {functionName: hello}}}}
    - matchers: [{prefix: /shop/status}]
      routeAction: {single: {upstream: {name: shop}, destinationSpec: {azure: {functionName: status}}}}
    - matchers: [{prefix: /shop/admin}]
      routeAction: {single: {upstream: {name: shop}, destinationSpec: {azure: {functionName: stats}}}}
    - matchers: [{prefix: /secure/whoami}]
      routeAction: {single: {upstream: {name: secure}, destinationSpec: {azure: {functionName: whoami}}}}
`

// certFile writes the stand-in's certificate for SSL_CERT_FILE: gluon
// trusts it as an operator would trust a private CA.
func certFile(t *testing.T, st *standin.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, st.CertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func named(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "%s %s", name, r.URL.RequestURI()) }
}

func TestAzureFunctions(t *testing.T) {
	st, err := standin.New(standin.Options{TokenLifetime: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	st.AddClient("gluon-client", azureClientSecret)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.AddApp(standin.App{Name: "shop", Functions: []standin.Function{
		{Name: "hello", Route: "hello", AuthLevel: standin.AuthFunction, Handler: named("hello")},
		{Name: "status", Route: "status", AuthLevel: standin.AuthAnonymous, Handler: named("status")},
		{Name: "stats", Route: "admin/stats", AuthLevel: standin.AuthAdmin, Handler: named("stats")},
	}}))
	must(st.AddApp(standin.App{Name: "secure", RequireAAD: true, Functions: []standin.Function{
		{Name: "whoami", Route: "whoami", AuthLevel: standin.AuthAnonymous, Handler: named("whoami")},
	}}))
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "azure.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "CLIENT_SECRET", azureClientSecret,
		"SUBSCRIPTION", st.Subscription(), "GROUP", st.ResourceGroup(), "TENANT", st.Tenant(),
		"ARM_URL", st.URL(), "HOST_URL", st.HostURL()).Replace(azureConfig))
	cp := startServeAt(t, &controlPlane{xds: freeAddr(t), admin: freeAddr(t), rls: freeAddr(t), configDir: dir, stateDir: t.TempDir(),
		env: []string{"SSL_CERT_FILE=" + certFile(t, st)}}, "embedded")
	base := "http://" + gw
	waitFor(t, 20*time.Second, "Azure functions discovered and routed", func() bool {
		code, _ := get(t, base+"/shop/status", nil)
		return code == 200
	})

	t.Run("each function gets the key its auth level needs; anonymous needs none", func(t *testing.T) {
		for path, want := range map[string]string{"/shop/hello?x=1": "hello /api/hello?x=1", "/shop/status": "status /api/status", "/shop/admin": "stats /api/admin/stats"} {
			code, body := get(t, base+path, map[string]string{"x-functions-key": "client-sent-wrong-key"})
			if code != 200 || body != want {
				t.Errorf("%s: %d %q, want 200 %q", path, code, body, want)
			}
		}
		// The last request the app saw must be the admin one: ask again.
		if code, _ := get(t, base+"/shop/admin", nil); code != 200 {
			t.Fatalf("admin: %d", code)
		}
		keys, _ := st.Keys("shop")
		if got := st.LastHostRequest().Header.Get("x-functions-key"); got != keys.Master {
			t.Errorf("the admin function got another key than the master key")
		}
		// Each function's calls are counted apart.
		_, metrics := get(t, "http://"+cp.admin+"/metrics", nil)
		if want := `gluon_function_invocations_total{function="stats",kind="azure",upstream="default/shop"} 2`; !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	})
	t.Run("an app behind App Service authentication gets a token, refreshed after expiry", func(t *testing.T) {
		if code, body := get(t, base+"/secure/whoami", nil); code != 200 || body != "whoami /api/whoami" {
			t.Fatalf("%d %q", code, body)
		}
		first := st.LastHostRequest().Header.Get("Authorization")
		time.Sleep(3500 * time.Millisecond) // past the 3 s token lifetime
		if code, body := get(t, base+"/secure/whoami", nil); code != 200 {
			t.Fatalf("after expiry: %d %q", code, body)
		}
		if second := st.LastHostRequest().Header.Get("Authorization"); second == first || !strings.HasPrefix(second, "Bearer ") {
			t.Fatal("the token was not refreshed")
		}
	})
	t.Run("a revoked key is replaced by the one discovery reads next", func(t *testing.T) {
		st.RevokeKey("shop", "hello")
		waitFor(t, 10*time.Second, "new key in use", func() bool {
			code, _ := get(t, base+"/shop/hello", nil)
			return code == 200
		})
	})
	t.Run("a 403 from ARM shows on the upstream while routes serve", func(t *testing.T) {
		st.ForbidARM(true)
		defer st.ForbidARM(false)
		waitFor(t, 10*time.Second, "AuthorizationFailed on /statusz", func() bool {
			_, status := get(t, "http://"+cp.admin+"/statusz", nil)
			return strings.Contains(status, "AuthorizationFailed")
		})
		if code, _ := get(t, base+"/shop/hello", nil); code != 200 {
			t.Fatalf("the route stopped serving: %d", code)
		}
	})
	t.Run("keys and tokens never appear in logs, /statusz or /snapshot", func(t *testing.T) {
		_, status := get(t, "http://"+cp.admin+"/statusz", nil)
		_, snapshot := get(t, "http://"+cp.admin+"/snapshot", nil)
		if !strings.Contains(snapshot, "gluon.azure_functions") {
			t.Fatal("no Azure filter in the snapshot; the check would prove nothing")
		}
		keys, _ := st.Keys("shop")
		secrets := []string{azureClientSecret, keys.Master, keys.Host}
		for _, k := range keys.Function {
			secrets = append(secrets, k)
		}
		token := strings.TrimPrefix(st.LastHostRequest().Header.Get("Authorization"), "Bearer ")
		if token != "" {
			secrets = append(secrets, token)
		}
		for where, text := range map[string]string{"logs": cp.Logs(), "/statusz": status, "/snapshot": snapshot} {
			for _, s := range secrets {
				if s != "" && strings.Contains(text, s) {
					t.Errorf("%s contains a key or token", where)
				}
			}
		}
	})
}
