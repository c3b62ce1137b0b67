package e2e

import (
	"strings"
	"testing"
	"time"

	consulapi "github.com/hashicorp/consul/api"
)

// TestConsulACLTokenFromSecret: with Consul's ACLs on (default deny),
// upstream discovery authenticates with the token a Secret holds. A wrong
// token discovers nothing; the Secret changed to a token allowed to read
// services makes the service's Upstream serve, without a restart; the
// token shows in no status or snapshot.
func TestConsulACLTokenFromSecret(t *testing.T) {
	consulAddr, c := startConsulToken(t, "e2e-root", "-hcl",
		`acl { enabled = true, default_policy = "deny", tokens { initial_management = "e2e-root", agent = "e2e-root" } }`)
	policy, _, err := c.ACL().PolicyCreate(&consulapi.ACLPolicy{Name: "gluon-discovery",
		Rules: `service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }
agent_prefix "" { policy = "read" }`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := c.ACL().TokenCreate(&consulapi.ACLToken{Description: "gluon", Policies: []*consulapi.ACLTokenPolicyLink{{ID: policy.ID}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	web := startBackend(t, "web", nil)
	registerInstance(t, c, "web", "web-1", web.addr)

	secret := func(value string) string {
		return "apiVersion: gluon.dev/v1\nkind: Secret\nmetadata: {name: consul-acl}\nspec: {header: {headers: {X-Consul-Token: " + value + "}}}\n"
	}
	gw, cp := startGateway(t, routeAllTo("consul-web"), "--consul-addr", consulAddr, "--consul-token-secret", "default/consul-acl")
	writeFile(t, cp.configDir, "secret.yaml", secret("00000000-0000-0000-0000-00000000dead"))
	time.Sleep(time.Second)
	if code, _ := get(t, "http://"+gw+"/x", nil); code == 200 {
		t.Fatal("the service is served although the Secret's token may read nothing")
	}
	writeFile(t, cp.configDir, "secret.yaml", secret(token.SecretID))
	waitFor(t, 15*time.Second, "the service served with the Secret's new token", func() bool {
		code, body := get(t, "http://"+gw+"/x", nil)
		return code == 200 && strings.HasPrefix(body, "web ")
	})
	for _, path := range []string{"/statusz", "/snapshot"} {
		if _, body := get(t, "http://"+cp.admin+path, nil); strings.Contains(body, token.SecretID) {
			t.Errorf("%s shows the Consul token", path)
		}
	}
}
