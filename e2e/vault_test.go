package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// startVault runs a real Vault server in -dev mode on a loopback port and
// returns a client of it holding the root token.
func startVault(t *testing.T) (string, *vaultapi.Client) {
	t.Helper()
	bin := cachedTool(t, "GLUON_VAULT", "vault-testenv")
	addr := freeAddr(t)
	startTool(t, bin, "server", "-dev", "-dev-listen-address", addr, "-dev-root-token-id", "e2e-root", "-log-level", "warn")
	cfg := vaultapi.DefaultConfig()
	cfg.Address = "http://" + addr
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.SetToken("e2e-root")
	waitFor(t, 30*time.Second, "vault unsealed", func() bool {
		h, err := c.Sys().Health()
		return err == nil && h.Initialized && !h.Sealed
	})
	return "http://" + addr, c
}

// approle enables AppRole login with a role that may read secret/gluon/*
// and writes its role_id and secret_id into files.
func approle(t *testing.T, c *vaultapi.Client) (roleIDFile, secretIDFile string) {
	t.Helper()
	if err := c.Sys().EnableAuthWithOptions("approle", &vaultapi.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Sys().PutPolicy("gluon", `path "secret/data/gluon/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logical().Write("auth/approle/role/gluon", map[string]any{"token_policies": "gluon", "token_ttl": "1h"}); err != nil {
		t.Fatal(err)
	}
	role, err := c.Logical().Read("auth/approle/role/gluon/role-id")
	if err != nil {
		t.Fatal(err)
	}
	secret, err := c.Logical().Write("auth/approle/role/gluon/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	roleIDFile, secretIDFile = filepath.Join(dir, "role-id"), filepath.Join(dir, "secret-id")
	for path, v := range map[string]any{roleIDFile: role.Data["role_id"], secretIDFile: secret.Data["secret_id"]} {
		if err := os.WriteFile(path, []byte(v.(string)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return roleIDFile, secretIDFile
}

// TestVaultSecrets: a Lambda upstream whose keys live in Vault (read with
// an AppRole login) invokes with them; a new secret key written to Vault as
// a new version is used by the next invocations, no restart; the values
// appear nowhere in logs, /statusz, /snapshot or gluonctl.
func TestVaultSecrets(t *testing.T) {
	vaultAddr, vc := startVault(t)
	roleID, secretID := approle(t, vc)
	const accessKey, firstSecret, secondSecret = "AKIAVAULTE2E", "first-secret-in-vault", "second-secret-in-vault"
	write := func(secret string) {
		t.Helper()
		_, err := vc.KVv2("secret").Put(context.Background(), "gluon/aws", map[string]any{"aws": map[string]any{"accessKey": accessKey, "secretKey": secret}})
		if err != nil {
			t.Fatal(err)
		}
	}
	write(firstSecret)
	lambda, url := startLambda(t)
	lambda.AddCredentials(accessKey, firstSecret, "")

	gw, cp := startGateway(t, `apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: aws-vault}
spec: {vault: {path: secret/gluon/aws}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: aws}
spec: {aws: {region: us-east-1, endpoint: "`+url+`", secretRef: {name: aws-vault}}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /echo}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: versioned}}}}
`, "--vault-addr", vaultAddr, "--vault-role-id-file", roleID, "--vault-secret-id-file", secretID, "--vault-poll-interval", "200ms")
	dir := cp.configDir
	base := "http://" + gw
	waitFor(t, 15*time.Second, "the Lambda invoked with the keys from Vault", func() bool {
		code, _ := doBody(t, http.MethodPost, base+"/echo", nil, `{"x": 1}`)
		return code == 200
	})

	t.Run("a new version in Vault is used by the next invocations", func(t *testing.T) {
		lambda.AddCredentials(accessKey, secondSecret, "") // the old secret key is refused from now on
		if code, _ := doBody(t, http.MethodPost, base+"/echo", nil, `{"x": 2}`); code == 200 {
			t.Fatal("the stand-in still takes the old secret key")
		}
		write(secondSecret)
		took := waitFor(t, 10*time.Second, "invocations with the new version", func() bool {
			code, _ := doBody(t, http.MethodPost, base+"/echo", nil, `{"x": 3}`)
			return code == 200
		})
		t.Logf("the new version signed invocations %v after it was written", took)
	})
	t.Run("an AppRole token revoked is replaced by a new login", func(t *testing.T) {
		if _, err := vc.Logical().Write("sys/leases/revoke-prefix/auth/approle/login", nil); err != nil {
			t.Fatal(err)
		}
		const third = "third-secret-in-vault"
		lambda.AddCredentials(accessKey, third, "")
		write(third)
		waitFor(t, 10*time.Second, "invocations with the version read after a new login", func() bool {
			code, _ := doBody(t, http.MethodPost, base+"/echo", nil, `{"x": 5}`)
			return code == 200
		})
	})
	t.Run("secret values appear nowhere", func(t *testing.T) {
		_, status := get(t, "http://"+cp.admin+"/statusz", nil)
		_, snapshot := get(t, "http://"+cp.admin+"/snapshot", nil)
		ctl, _ := runGluonctl(t, "--config-dir", dir, "--admin-addr", cp.admin, "get", "secrets", "-o", "yaml")
		for what, text := range map[string]string{"logs": cp.Logs(), "/statusz": status, "/snapshot": snapshot, "gluonctl get secrets": ctl} {
			for _, v := range []string{firstSecret, secondSecret, "third-secret-in-vault"} {
				if strings.Contains(text, v) {
					t.Errorf("%s shows a secret value from Vault", what)
				}
			}
		}
	})
	t.Run("a path Vault does not hold is reported on the Secret", func(t *testing.T) {
		writeFile(t, dir, "missing.yaml", `apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: missing}
spec: {vault: {path: secret/gluon/nothing-here}}
`)
		waitFor(t, 10*time.Second, "the missing path reported", func() bool {
			_, body := get(t, "http://"+cp.admin+"/statusz", nil)
			return strings.Contains(body, "secret/gluon/nothing-here")
		})
		if code, _ := doBody(t, http.MethodPost, base+"/echo", nil, `{"x": 4}`); code != 200 {
			t.Errorf("the good route after a bad secret: %d", code)
		}
	})
}
