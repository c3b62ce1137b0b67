package main

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api"
)

// TestSecretsNeverShown: every secret type is named in `get secrets` and
// shows none of its values when echoed (--dry-run); an API key's client
// metadata is no secret and stays.
func TestSecretsNeverShown(t *testing.T) {
	values := []string{"AKID-SECRET", "az-key", "tls-key", "hdr-value", "k-123456", "$2y$05$hash"}
	secrets := []*api.Secret{
		{Spec: api.SecretSpec{AWS: &api.AWSSecret{AccessKey: "AKID", SecretKey: "AKID-SECRET"}}},
		{Spec: api.SecretSpec{Azure: &api.AzureSecret{APIKeys: map[string]string{"fn": "az-key"}}}},
		{Spec: api.SecretSpec{TLS: &api.TLSSecret{CertChain: "cert", PrivateKey: "tls-key"}}},
		{Spec: api.SecretSpec{Header: &api.HeaderSecret{Headers: map[string]string{"x-key": "hdr-value"}}}},
		{Spec: api.SecretSpec{APIKey: &api.APIKeySecret{APIKey: "k-123456", Metadata: map[string]string{"client-id": "acme"}}}},
		{Spec: api.SecretSpec{Htpasswd: &api.HtpasswdSecret{Users: "carol:$2y$05$hash"}}},
	}
	for i, s := range secrets {
		raw, err := yaml.Marshal(redactedSecret(s))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), values[i]) {
			t.Errorf("secret %d shows its value:\n%s", i, raw)
		}
	}
	if raw, _ := yaml.Marshal(redactedSecret(secrets[4])); !strings.Contains(string(raw), "client-id: acme") {
		t.Errorf("an API key's metadata was dropped:\n%s", raw)
	}
	for _, row := range secretRows(secrets) {
		if row.Type == "unknown" {
			t.Errorf("a secret type without a name: %+v", row)
		}
	}
}
