package azure

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// clearAzureEnv unsets, for the test, what azidentity reads from the
// environment, so that no identity of the machine running it is used. The
// same list is in fds/azure's tests, which this package may not import.
func clearAzureEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{
		"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
		"AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "AZURE_USERNAME", "AZURE_PASSWORD",
		"AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "AZURE_TOKEN_CREDENTIALS", "AZURE_REGIONAL_AUTHORITY_NAME",
		"AZURE_ADDITIONALLY_ALLOWED_TENANTS", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
		"MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
	} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// msiServer is App Service's managed identity endpoint (plain HTTP), as
// MSAL calls it when IDENTITY_ENDPOINT and IDENTITY_HEADER are set.
type msiServer struct {
	*httptest.Server
	lifetime time.Duration
	clientID string // the user-assigned identity it knows; "" the system-assigned
	issued   atomic.Int32
}

func newMSIServer(t *testing.T, lifetime time.Duration, clientID string) *msiServer {
	m := &msiServer{lifetime: lifetime, clientID: clientID}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("content-type", "application/json")
		q := r.URL.Query()
		switch {
		case r.Header.Get("X-IDENTITY-HEADER") != "msi-secret":
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"statusCode": 401, "message": "bad X-IDENTITY-HEADER"}`))
		case q.Get("api-version") != "2019-08-01" || q.Get("resource") != "api://app" || q.Get("client_id") != m.clientID:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"statusCode": 400, "message": "No Managed Identity found for specified ClientId/ResourceId/PrincipalId."}`))
		default:
			n := m.issued.Add(1)
			_ = json.NewEncoder(w).Encode(map[string]string{"access_token": fmt.Sprintf("mi-token-%d", n),
				"expires_on": strconv.FormatInt(time.Now().Add(m.lifetime).Unix(), 10), "resource": "api://app", "token_type": "Bearer"})
		}
	}))
	t.Cleanup(m.Close)
	clearAzureEnv(t)
	t.Setenv("IDENTITY_ENDPOINT", m.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", "msi-secret")
	return m
}

func filterFor(t *testing.T, aad map[string]any, opts ...Option) *Filter {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"aad": map[string]any{"default/app": aad}})
	f, err := NewFilter(b, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAADManagedIdentityRefreshed(t *testing.T) {
	for _, id := range []string{"", "uami-1"} {
		t.Run("clientId="+id, func(t *testing.T) {
			m := newMSIServer(t, 4*time.Second, id)
			r := compile(t, filterFor(t, map[string]any{"kind": "managedIdentity", "clientId": id, "scope": "api://app/.default"}), aadRoute)
			wantRefreshed(t, r, "mi-token")
			if n := m.issued.Load(); n != 2 {
				t.Errorf("%d tokens issued, want 2", n)
			}
		})
	}
}

func TestAADManagedIdentityRefused(t *testing.T) {
	newMSIServer(t, time.Hour, "uami-1")
	r := compile(t, filterFor(t, map[string]any{"kind": "managedIdentity", "clientId": "other", "scope": "api://app/.default"}), aadRoute)
	lr := r.NewStream().OnRequest(headers{":path": "/h"})
	if lr == nil || lr.Status != http.StatusBadGateway || !strings.Contains(lr.Body, "managed identity other") ||
		!strings.Contains(lr.Body, "No Managed Identity found") {
		t.Fatalf("reply %+v", lr)
	}
}

func TestAADDefaultCredentialUsesManagedIdentity(t *testing.T) {
	// Tokens due within 5 minutes stay out of MSAL's process-wide managed
	// identity cache, where other tests would find them.
	newMSIServer(t, 4*time.Second, "")
	r := compile(t, filterFor(t, map[string]any{"kind": "default", "scope": "api://app/.default"}), aadRoute)
	if got := bearer(t, r); got != "Bearer mi-token-1" {
		t.Fatalf("authorization %q", got)
	}
}

func TestAADWorkloadIdentityRefreshed(t *testing.T) {
	clearAzureEnv(t)
	a := newAADServer(t, 4*time.Second)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("federated-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := filterFor(t, map[string]any{"kind": "workloadIdentity", "tenantId": "tenant1", "clientId": "wi-client",
		"tokenFilePath": file, "authorityHost": a.URL + "/", "scope": "api://app/.default"}, WithTransport(a.Client()))
	wantRefreshed(t, compile(t, f, aadRoute), "token")
}

func TestAADWorkloadIdentityWrongAssertion(t *testing.T) {
	clearAzureEnv(t)
	a := newAADServer(t, time.Hour)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("not-trusted"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := filterFor(t, map[string]any{"kind": "workloadIdentity", "tenantId": "tenant1", "clientId": "wi-client",
		"tokenFilePath": file, "authorityHost": a.URL + "/", "scope": "api://app/.default"}, WithTransport(a.Client()))
	lr := compile(t, f, aadRoute).NewStream().OnRequest(headers{":path": "/h"})
	if lr == nil || lr.Status != http.StatusBadGateway || !strings.Contains(lr.Body, "AADSTS700213") || strings.Contains(lr.Body, "not-trusted") {
		t.Fatalf("reply %+v", lr)
	}
}

func TestAADKindChecked(t *testing.T) {
	if _, err := NewFilter([]byte(`{"aad": {"default/app": {"kind": "certificate", "scope": "api://app/.default"}}}`)); err == nil ||
		!strings.Contains(err.Error(), `unknown kind "certificate"`) {
		t.Errorf("unknown kind: %v", err)
	}
	for aad, want := range map[string]string{
		`{"kind": "workloadIdentity", "tenantId": "t", "clientId": "c", "scope": "s"}`: "tokenFilePath",
		`{"kind": "managedIdentity"}`:                                              "scope is required",
		`{"tenantId": "t", "clientId": "c", "scope": "s"}`:                         "clientSecret and scope are required",
		`{"kind": "clientSecret", "tenantId": "t", "clientId": "c", "scope": "s"}`: "clientSecret and scope are required",
	} {
		f, err := NewFilter([]byte(`{"aad": {"default/app": ` + aad + `}}`))
		if err != nil {
			t.Fatal(err)
		}
		lr := compile(t, f, aadRoute).NewStream().OnRequest(headers{":path": "/h"})
		if lr == nil || lr.Status != http.StatusBadGateway || !strings.Contains(lr.Body, want) {
			t.Errorf("%s: reply %+v, want %q", aad, lr, want)
		}
	}
}
