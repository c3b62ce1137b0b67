package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/azure/standin"
)

const azureIdentityConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: by-managed-identity}
spec:
  azure:
    functionAppName: mi-app
    subscriptionId: SUBSCRIPTION
    resourceGroup: GROUP
    managedIdentity: {}
    appAuthentication: true
    armEndpoint: ARM_URL
    authorityHost: ARM_URL/
    appHost: HOST_URL
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: by-workload-identity}
spec:
  azure:
    functionAppName: wi-app
    subscriptionId: SUBSCRIPTION
    resourceGroup: GROUP
    workloadIdentity: {tenantId: TENANT, clientId: workload-client, tokenFilePath: TOKEN_FILE}
    appAuthentication: true
    armEndpoint: ARM_URL
    authorityHost: ARM_URL/
    appHost: HOST_URL
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: identities}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /mi}]
      routeAction: {single: {upstream: {name: by-managed-identity}, destinationSpec: {azure: {functionName: whoami}}}}
    - matchers: [{prefix: /wi}]
      routeAction: {single: {upstream: {name: by-workload-identity}, destinationSpec: {azure: {functionName: whoami}}}}
`

// TestAzureIdentities discovers and calls apps behind App Service
// authentication with a managed identity (the App Service MSI protocol,
// from gluon's environment) and a workload identity (a federated token file).
func TestAzureIdentities(t *testing.T) {
	st, err := standin.New(standin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	st.AddManagedIdentity("")
	const assertion = "federated-token-from-the-cluster"
	st.AddFederatedClient("workload-client", assertion)
	for _, app := range []string{"mi-app", "wi-app"} {
		if err := st.AddApp(standin.App{Name: app, RequireAAD: true, Functions: []standin.Function{
			{Name: "whoami", Route: "whoami", AuthLevel: standin.AuthAnonymous, Handler: named(app)},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(assertion), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "azure.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "SUBSCRIPTION", st.Subscription(), "GROUP", st.ResourceGroup(),
		"TENANT", st.Tenant(), "ARM_URL", st.URL(), "HOST_URL", st.HostURL(), "TOKEN_FILE", tokenFile).Replace(azureIdentityConfig))
	startServeAt(t, &controlPlane{xds: freeAddr(t), admin: freeAddr(t), rls: freeAddr(t), configDir: dir, stateDir: t.TempDir(),
		env: []string{"SSL_CERT_FILE=" + certFile(t, st), "IDENTITY_ENDPOINT=" + st.MSIEndpoint(), "IDENTITY_HEADER=" + st.MSIHeader()}}, "embedded")
	base := "http://" + gw
	for path, want := range map[string]string{"/mi": "mi-app /api/whoami", "/wi": "wi-app /api/whoami"} {
		var body string
		waitFor(t, 20*time.Second, path+" discovered and called with a token", func() bool {
			var code int
			code, body = get(t, base+path, nil)
			return code == 200
		})
		if body != want {
			t.Errorf("%s: %q, want %q", path, body, want)
		}
		if !strings.HasPrefix(st.LastHostRequest().Header.Get("Authorization"), "Bearer ") {
			t.Errorf("%s: no bearer token reached the app", path)
		}
	}
}
