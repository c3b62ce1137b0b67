package azure

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/azure/standin"
)

// clearAzureEnv unsets (for the test) every variable azidentity's
// environment, workload identity and managed identity credentials read, so
// that the developer's or CI's own identity never leaks into a test.
func clearAzureEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{
		"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
		"AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "AZURE_USERNAME", "AZURE_PASSWORD",
		"AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "AZURE_TOKEN_CREDENTIALS", "AZURE_REGIONAL_AUTHORITY_NAME",
		"AZURE_ADDITIONALLY_ALLOWED_TENANTS", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
		"MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
	} {
		t.Setenv(k, "") // restores the old value after the test
		os.Unsetenv(k)
	}
}

// msiSetup is a stand-in whose managed identity endpoint the process uses.
// Tokens last 2 minutes: MSAL keeps managed identity tokens in a
// process-wide cache, which never returns one due within 5 minutes, so no
// test is served a token of another test's stand-in.
func msiSetup(t *testing.T) (*standin.Server, Config) {
	t.Helper()
	clearAzureEnv(t)
	s, cfg := setupWith(t, standin.Options{TokenLifetime: 2 * time.Minute})
	t.Setenv("IDENTITY_ENDPOINT", s.MSIEndpoint())
	t.Setenv("IDENTITY_HEADER", s.MSIHeader())
	cfg.CredentialKind, cfg.ClientID, cfg.ClientSecret = KindManagedIdentity, "", ""
	return s, cfg
}

func wantFunctionsAndKeys(t *testing.T, cfg Config) {
	t.Helper()
	fns, keys, err := discover(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 4 || keys == nil || keys.Master == "" {
		t.Fatalf("%d functions, keys %v", len(fns), keys != nil)
	}
}

func TestManagedIdentitySystemAssigned(t *testing.T) {
	s, cfg := msiSetup(t)
	s.AddManagedIdentity("")
	wantFunctionsAndKeys(t, cfg)
}

func TestManagedIdentityUserAssigned(t *testing.T) {
	s, cfg := msiSetup(t)
	s.AddManagedIdentity("uami-client")
	cfg.ClientID = "uami-client"
	wantFunctionsAndKeys(t, cfg)

	// The system-assigned identity is not enabled on this host.
	cfg.ClientID = ""
	if _, _, err := discover(t, cfg); err == nil || IsTransient(err) || !strings.Contains(err.Error(), "No Managed Identity found") {
		t.Fatalf("transient %v: %v", IsTransient(err), err)
	}
}

func TestManagedIdentityWrongHeader(t *testing.T) {
	s, cfg := msiSetup(t)
	s.AddManagedIdentity("")
	t.Setenv("IDENTITY_HEADER", "not-the-header")
	_, _, err := discover(t, cfg)
	if err == nil || IsTransient(err) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("transient %v: %v", IsTransient(err), err)
	}
}

func TestWorkloadIdentity(t *testing.T) {
	s, cfg := setup(t)
	clearAzureEnv(t)
	s.AddFederatedClient("wi-client", "federated-sa-token")
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("federated-sa-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.CredentialKind, cfg.ClientID, cfg.ClientSecret, cfg.TokenFilePath = KindWorkloadIdentity, "wi-client", "", file
	wantFunctionsAndKeys(t, cfg)

	// A token file the federated credential does not trust is refused.
	if err := os.WriteFile(file, []byte("someone-else"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.ClientID = "wi-client" // a new credential: azidentity re-reads the file every 5 minutes only
	_, _, err := discover(t, cfg)
	if ErrorCode(err) != "invalid_client" || IsTransient(err) || !strings.Contains(err.Error(), "AADSTS700213") {
		t.Fatalf("code %q: %v", ErrorCode(err), err)
	}
	if strings.Contains(err.Error(), "someone-else") {
		t.Errorf("the assertion leaks: %v", err)
	}
}

func TestDefaultCredentialUsesManagedIdentity(t *testing.T) {
	s, cfg := msiSetup(t)
	s.AddManagedIdentity("")
	cfg.CredentialKind = KindDefault
	wantFunctionsAndKeys(t, cfg)
}

func TestCredentialKindsValidated(t *testing.T) {
	_, cfg := setup(t)
	for _, tc := range []struct {
		kind, secret, file, want string
	}{
		{"clientSecret", "", "", "client secret are required"},
		{"", "", "", "client secret are required"},
		{"workloadIdentity", "", "", "token file path"},
		{"certificate", "x", "", `unknown credential kind "certificate"`},
		{"ManagedIdentity", "", "", "unknown credential kind"},
	} {
		c := cfg
		c.CredentialKind, c.ClientSecret, c.TokenFilePath = tc.kind, tc.secret, tc.file
		if _, err := New(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("kind %q: %v, want %q", tc.kind, err, tc.want)
		}
	}
	// Only a client secret needs a secret.
	for _, kind := range []string{KindManagedIdentity, KindDefault} {
		c := cfg
		c.CredentialKind, c.ClientSecret = kind, ""
		if _, err := New(c); err != nil {
			t.Errorf("kind %q: %v", kind, err)
		}
	}
	c := cfg
	c.CredentialKind, c.ClientSecret, c.TokenFilePath = KindWorkloadIdentity, "", "/var/run/secrets/token"
	if _, err := New(c); err != nil {
		t.Errorf("workload identity: %v", err)
	}
}
