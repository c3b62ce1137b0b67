package controlplane

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/vaultsource"
)

func TestWithVaultSecrets(t *testing.T) {
	secret := func(name string, spec api.SecretSpec) *api.Secret {
		return &api.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: spec}
	}
	plain := secret("plain", api.SecretSpec{Header: &api.HeaderSecret{Headers: map[string]string{"x-key": "v"}}})
	res := api.Resources{Secrets: []*api.Secret{
		plain,
		secret("aws", api.SecretSpec{Vault: &api.VaultSecret{Path: "secret/gluon/aws"}}),
		secret("broken", api.SecretSpec{Vault: &api.VaultSecret{Path: "secret/gluon/broken"}}),
		secret("empty", api.SecretSpec{Vault: &api.VaultSecret{Path: "secret/gluon/empty"}}),
		secret("unread", api.SecretSpec{Vault: &api.VaultSecret{Path: "secret/gluon/unread"}}),
	}}
	if got := strings.Join(VaultPaths(res), " "); got != "secret/gluon/aws secret/gluon/broken secret/gluon/empty secret/gluon/unread" {
		t.Fatalf("paths: %s", got)
	}
	resolved := map[string]vaultsource.Resolved{
		"secret/gluon/aws":    {Spec: api.SecretSpec{AWS: &api.AWSSecret{AccessKey: "AK", SecretKey: "SK"}}, Version: 3},
		"secret/gluon/broken": {Err: "vault secret/gluon/broken: permission denied"},
		"secret/gluon/empty":  {Spec: api.SecretSpec{}},
	}
	out, problems := withVaultSecrets(res, resolved)
	if len(out.Secrets) != 2 || out.Secrets[0] != plain || out.Secrets[1].Spec.AWS == nil || out.Secrets[1].Spec.AWS.SecretKey != "SK" {
		t.Fatalf("secrets: %+v", out.Secrets)
	}
	if res.Secrets[1].Spec.AWS != nil {
		t.Fatal("the source's own Secret was changed")
	}
	want := map[string]string{"broken": "permission denied", "empty": "a secret type is required", "unread": "not read yet"}
	for name, msg := range want {
		if p := problems[api.Key{Kind: api.KindSecret, Namespace: "default", Name: name}]; !strings.Contains(p, msg) {
			t.Errorf("%s: problem %q, want %q", name, p, msg)
		}
	}
}
