package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/lambda/standin"
)

const (
	roleAllowed = "arn:aws:iam::123456789012:role/gluon-invoker"
	roleDenied  = "arn:aws:iam::123456789012:role/not-for-gluon"
)

// lambdaRoleConfig has two upstreams assuming a role with the same base
// key, on the stand-in's STS: one the key may assume, one it may not.
const lambdaRoleConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: aws-base}
spec: {aws: {accessKey: ACCESS_KEY, secretKey: SECRET_KEY}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: aws-role}
spec: {aws: {region: us-east-1, endpoint: "LAMBDA_URL", stsEndpoint: "LAMBDA_URL", secretRef: {name: aws-base}, roleArn: "ROLE_ALLOWED"}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: aws-denied}
spec: {aws: {region: us-east-1, endpoint: "LAMBDA_URL", stsEndpoint: "LAMBDA_URL", secretRef: {name: aws-base}, roleArn: "ROLE_DENIED"}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: plain}
spec: {static: {hosts: [{addr: 127.0.0.1, port: PLAIN_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: lambdas}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /role}]
      routeAction: {single: {upstream: {name: aws-role}, destinationSpec: {aws: {logicalName: versioned}}}}
    - matchers: [{prefix: /denied}]
      routeAction: {single: {upstream: {name: aws-denied}, destinationSpec: {aws: {logicalName: versioned}}}}
    - matchers: [{prefix: /plain}]
      routeAction: {single: {upstream: {name: plain}}}
`

// gatewaySession is the session name the gateway's filter assumes roles
// with (discovery uses its own).
const gatewaySession = "gluon-gateway"

func TestLambdaAssumeRole(t *testing.T) {
	// Temporary credentials last 2 s, so that the test sees them refreshed.
	lambda := standin.New(standin.Options{AssumedRoleLifetime: 2 * time.Second})
	lambda.AddCredentials(awsAccessKey, awsSecretKey, "")
	lambda.AllowAssumeRole(awsAccessKey, roleAllowed)
	if err := lambda.AddFunction(standin.Function{Name: "versioned", Handler: versioned}); err != nil {
		t.Fatal(err)
	}
	ep, err := lambda.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	plain := startBackend(t, "plain", nil)
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "lambda.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "LAMBDA_URL", ep.URL, "PLAIN_PORT", plain.port(),
		"ACCESS_KEY", awsAccessKey, "SECRET_KEY", awsSecretKey, "ROLE_ALLOWED", roleAllowed, "ROLE_DENIED", roleDenied).Replace(lambdaRoleConfig))
	cp := startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	waitFor(t, 15*time.Second, "Lambda functions discovered as the role and routed", func() bool {
		code, _ := doBody(t, http.MethodPost, base+"/role", nil, `{"x": 1}`)
		return code == 200
	})

	// signer returns the access key and security token of the last
	// invocation, and the gateway's credentials issued so far.
	signer := func(t *testing.T) (key, token string, issued []standin.AssumedRole) {
		t.Helper()
		invs := lambda.Invocations()
		h := invs[len(invs)-1].Header
		cred, _, _ := strings.Cut(strings.TrimPrefix(h.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="), "/")
		for _, a := range lambda.AssumedRoles() {
			if a.RoleSessionName == gatewaySession {
				issued = append(issued, a)
			}
		}
		return cred, h.Get("X-Amz-Security-Token"), issued
	}
	t.Run("invocations are signed with the role's temporary credentials", func(t *testing.T) {
		if code, body := doBody(t, http.MethodPost, base+"/role", nil, `{"pet": "Rex"}`); code != 200 || !strings.Contains(body, `"pet":"Rex"`) {
			t.Fatalf("%d %s", code, body)
		}
		key, token, issued := signer(t)
		last := issued[len(issued)-1]
		if key != last.AccessKeyID || token != last.SessionToken || !strings.HasPrefix(key, "ASIA") || last.RoleArn != roleAllowed || last.SourceAccessKey != awsAccessKey {
			t.Fatalf("signed by %s (token set: %v); the gateway was issued %+v", key, token != "", last.AccessKeyID)
		}
	})
	t.Run("credentials are refreshed after they expire", func(t *testing.T) {
		first, _, _ := signer(t)
		time.Sleep(3 * time.Second)
		if code, body := doBody(t, http.MethodPost, base+"/role", nil, `{}`); code != 200 {
			t.Fatalf("after expiry: %d %s", code, body)
		}
		key, token, issued := signer(t)
		if last := issued[len(issued)-1]; key == first || key != last.AccessKeyID || token != last.SessionToken {
			t.Fatalf("signed by %s, before by %s, last issued %s", key, first, last.AccessKeyID)
		}
	})
	t.Run("a role the key may not assume shows on the upstream; other routes serve", func(t *testing.T) {
		waitFor(t, 10*time.Second, "AccessDenied on /statusz", func() bool {
			_, status := get(t, "http://"+cp.admin+"/statusz", nil)
			return strings.Contains(status, "aws-denied") && strings.Contains(status, "AccessDenied")
		})
		if code, body := doBody(t, http.MethodPost, base+"/denied", nil, `{}`); code < 500 || !strings.Contains(body, "aws-denied") {
			t.Fatalf("%d %s", code, body)
		}
		if code, _ := doBody(t, http.MethodPost, base+"/role", nil, `{}`); code != 200 {
			t.Fatalf("the allowed role's route: %d", code)
		}
		if code, _ := get(t, base+"/plain", nil); code != 200 {
			t.Fatalf("another route: %d", code)
		}
	})
	t.Run("credentials never appear in logs, /statusz or /snapshot", func(t *testing.T) {
		_, status := get(t, "http://"+cp.admin+"/statusz", nil)
		_, snapshot := get(t, "http://"+cp.admin+"/snapshot", nil)
		if !strings.Contains(snapshot, roleAllowed) {
			t.Fatal("the snapshot has no role in its Lambda route config; the check would prove nothing")
		}
		secrets := []string{awsSecretKey, awsAccessKey}
		issued := lambda.AssumedRoles()
		if len(issued) < 3 { // the gateway's twice, discovery's at least once
			t.Fatalf("only %d credentials issued; the check would prove little", len(issued))
		}
		for _, a := range issued {
			secrets = append(secrets, a.AccessKeyID, a.SecretAccessKey, a.SessionToken)
		}
		for where, text := range map[string]string{"logs": cp.Logs(), "/statusz": status, "/snapshot": snapshot} {
			for _, secret := range secrets {
				if strings.Contains(text, secret) {
					t.Errorf("%s contains a credential (%s…)", where, secret[:4])
				}
			}
		}
	})
}
