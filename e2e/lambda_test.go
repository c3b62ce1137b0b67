package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/lambda/standin"
)

const (
	awsAccessKey = "AKIDGLUONE2ETEST"
	awsSecretKey = "e2e-secret-key-never-shown"
)

const lambdaConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: small}
spec: {bindAddress: 127.0.0.1, bindPort: SMALL_PORT, options: {perConnectionBufferLimitBytes: 1024}}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: aws-creds}
spec: {aws: {accessKey: ACCESS_KEY, secretKey: SECRET_KEY}}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: wrong-creds}
spec: {aws: {accessKey: ACCESS_KEY, secretKey: not-the-secret}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: aws}
spec: {aws: {region: us-east-1, endpoint: "LAMBDA_URL", secretRef: {name: aws-creds}}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: aws-wrong}
spec: {aws: {region: us-east-1, endpoint: "LAMBDA_URL", secretRef: {name: wrong-creds}}}
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
    - matchers: [{prefix: /raw}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: versioned}}}}
    - matchers: [{prefix: /apigw/v1}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: web, wrapAsApiGateway: true, unwrapAsApiGateway: true}}}}
    - matchers: [{prefix: /apigw/v2}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: web, wrapAsApiGateway: true, apiGatewayVersion: v2, unwrapAsApiGateway: true}}}}
    - matchers: [{prefix: /binary}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: binary, wrapAsApiGateway: true, unwrapAsApiGateway: true}}}}
    - matchers: [{prefix: /async}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: versioned, invocationStyle: ASYNC}}}}
    - matchers: [{prefix: /alias}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: "versioned:prod"}}}}
    - matchers: [{prefix: /version}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: "versioned:2"}}}}
    - matchers: [{prefix: /fail-shown}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: fail, passFunctionErrors: true}}}}
    - matchers: [{prefix: /fail}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: fail}}}}
    - matchers: [{prefix: /throttled}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: throttled}}}}
    - matchers: [{prefix: /slow}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: slow}}}}
      options: {timeout: 300ms}
    - matchers: [{prefix: /wrong}]
      routeAction: {single: {upstream: {name: aws-wrong}, destinationSpec: {aws: {logicalName: versioned}}}}
    - matchers: [{prefix: /plain}]
      routeAction: {single: {upstream: {name: plain}}}
`

// versioned answers with the version that ran and the payload it got.
func versioned(_ context.Context, version string, payload []byte) ([]byte, error) {
	return json.Marshal(map[string]any{"version": version, "payload": json.RawMessage(payload)})
}

// binaryEcho answers an API Gateway event with its own body, as sent; it
// looks the content type up as payload 1.0 spells it, as handlers do.
func binaryEcho(_ context.Context, _ string, payload []byte) ([]byte, error) {
	var ev struct {
		Headers         map[string]string `json:"headers"`
		Body            string            `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"statusCode": 200, "headers": map[string]string{"content-type": ev.Headers["Content-Type"]},
		"body": ev.Body, "isBase64Encoded": ev.IsBase64Encoded})
}

func startLambda(t *testing.T) (*standin.Server, string) {
	t.Helper()
	s := standin.New(standin.Options{})
	s.AddCredentials(awsAccessKey, awsSecretKey, "")
	for _, f := range []standin.Function{
		{Name: "versioned", Versions: []string{"1", "2"}, Aliases: map[string]string{"prod": "1"}, Handler: versioned},
		{Name: "web", Handler: standin.APIGatewayEcho},
		{Name: "binary", Handler: binaryEcho},
		{Name: "fail", Handler: standin.Fail("ValueError", "the function failed on purpose")},
		{Name: "throttled", Handler: versioned},
		{Name: "slow", Timeout: 10 * time.Second, Handler: standin.Sleep(3 * time.Second)},
	} {
		if err := s.AddFunction(f); err != nil {
			t.Fatal(err)
		}
	}
	s.Throttle("throttled", 7*time.Second)
	ep, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return s, ep.URL
}

func TestLambda(t *testing.T) {
	lambda, url := startLambda(t)
	plain := startBackend(t, "plain", nil)
	gw, small := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "lambda.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "SMALL_PORT", portOf(small), "LAMBDA_URL", url, "PLAIN_PORT", plain.port(),
		"ACCESS_KEY", awsAccessKey, "SECRET_KEY", awsSecretKey).Replace(lambdaConfig))
	cp := startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	waitFor(t, 15*time.Second, "Lambda functions discovered and routed", func() bool {
		code, _ := doBody(t, http.MethodPost, base+"/raw", nil, `{"x": 1}`)
		return code == 200
	})

	t.Run("the listener's buffer limit is the Lambda body limit", func(t *testing.T) {
		payload := `{"pad": "` + strings.Repeat("x", 2000) + `"}`
		if code, _ := doBody(t, http.MethodPost, "http://"+small+"/raw", nil, payload); code != 413 {
			t.Errorf("2 KB past a 1 KiB listener limit: %d, want 413", code)
		}
		if code, _ := doBody(t, http.MethodPost, "http://"+small+"/raw", nil, `{"x": 1}`); code != 200 {
			t.Errorf("a small body on the limited listener: %d", code)
		}
		if code, _ := doBody(t, http.MethodPost, base+"/raw", nil, payload); code != 200 {
			t.Errorf("2 KB under Lambda's own 6 MiB limit: %d", code)
		}
	})

	t.Run("sync raw invocation gets the request body as its payload", func(t *testing.T) {
		code, body := doBody(t, http.MethodPost, base+"/raw", nil, `{"pet": "Rex"}`)
		if code != 200 || body != `{"payload":{"pet":"Rex"},"version":"$LATEST"}` {
			t.Fatalf("%d %s", code, body)
		}
	})
	for _, v := range []string{"v1", "v2"} {
		t.Run("API Gateway "+v+" wrapped and unwrapped", func(t *testing.T) {
			code, body := doBody(t, http.MethodPut, base+"/apigw/"+v+"/pets?tag=dog", map[string]string{"x-trace": "t1"}, "hello")
			var seen struct {
				Method, Path, Body string
				Query, Headers     map[string]string
			}
			if err := json.Unmarshal([]byte(body), &seen); err != nil || code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			// Payload 1.0 spells header names as clients do (X-Trace); 2.0
			// lower-cases them.
			trace := map[string]string{"v1": "X-Trace", "v2": "x-trace"}[v]
			if seen.Method != "PUT" || seen.Path != "/apigw/"+v+"/pets" || seen.Query["tag"] != "dog" || seen.Headers[trace] != "t1" || seen.Body != "hello" {
				t.Fatalf("the function saw %+v", seen)
			}
		})
	}
	t.Run("payload 1.0 header names as received, over HTTP/1.1 and HTTP/2", func(t *testing.T) {
		seen := func(code int, body string) map[string]string {
			var ev struct{ Headers map[string]string }
			if err := json.Unmarshal([]byte(body), &ev); err != nil || code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			return ev.Headers
		}
		h1 := seen(rawExchange(t, gw, "PUT /apigw/v1/names HTTP/1.1\r\nhost: gw.test\r\nMixed-CASE: m\r\nx-trace: t\r\n"+
			"Content-Type: text/plain\r\ncontent-length: 5\r\nConnection: close\r\n\r\nhello"))
		for name, want := range map[string]string{"host": "gw.test", "Mixed-CASE": "m", "x-trace": "t", "Content-Type": "text/plain"} {
			if h1[name] != want {
				t.Errorf("HTTP/1.1: the function saw %s: %q, want %q (all: %v)", name, h1[name], want, h1)
			}
		}
		for _, name := range []string{"Host", "Mixed-Case", "X-Trace"} {
			if _, ok := h1[name]; ok {
				t.Errorf("HTTP/1.1: the function saw %s, spelled otherwise by the client (all: %v)", name, h1)
			}
		}
		resp, body := h2cRequest(t, http.MethodPut, base+"/apigw/v1/names", map[string]string{"X-Trace": "t"}, []byte("hello"))
		h2 := seen(resp.StatusCode, string(body))
		if h2["x-trace"] != "t" || h2["X-Trace"] != "" {
			t.Errorf("HTTP/2: the function saw %v, want names in lower case as sent", h2)
		}
	})
	t.Run("binary bodies round-trip", func(t *testing.T) {
		bin := []byte{0x89, 'P', 'N', 'G', 0, 0xff, 0xfe, '\n'}
		req, _ := http.NewRequest(http.MethodPost, base+"/binary", bytes.NewReader(bin))
		req.Header.Set("Content-Type", "image/png")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(got, bin) || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%d %q %v", resp.StatusCode, got, resp.Header)
		}
	})
	t.Run("async invocation answers 202 and runs", func(t *testing.T) {
		before := lambda.Count("versioned", "")
		if code, body := doBody(t, http.MethodPost, base+"/async", nil, `{"later": true}`); code != 202 {
			t.Fatalf("%d %s", code, body)
		}
		waitFor(t, 5*time.Second, "async invocation ran", func() bool { return lambda.Count("versioned", "") > before })
	})
	t.Run("alias and version", func(t *testing.T) {
		if code, body := doBody(t, http.MethodPost, base+"/alias", nil, `{}`); code != 200 || !strings.Contains(body, `"version":"1"`) {
			t.Fatalf("alias prod: %d %s", code, body)
		}
		if code, body := doBody(t, http.MethodPost, base+"/version", nil, `{}`); code != 200 || !strings.Contains(body, `"version":"2"`) {
			t.Fatalf("version 2: %d %s", code, body)
		}
	})
	t.Run("function error is 502, its detail only where the route passes it", func(t *testing.T) {
		if code, body := doBody(t, http.MethodPost, base+"/fail", nil, `{}`); code != 502 || strings.Contains(body, "failed on purpose") ||
			strings.Contains(body, "ValueError") || !strings.Contains(body, "request id") {
			t.Fatalf("%d %s", code, body)
		}
		if code, body := doBody(t, http.MethodPost, base+"/fail-shown", nil, `{}`); code != 502 || !strings.Contains(body, "failed on purpose") {
			t.Fatalf("passed through: %d %s", code, body)
		}
	})
	t.Run("throttling is 429 with Retry-After", func(t *testing.T) {
		resp, err := client.Post(base+"/throttled", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
		// The function's statistics count the throttle, and the calls.
		_, metrics := get(t, "http://"+cp.admin+"/metrics", nil)
		for _, want := range []string{
			`gluon_function_throttles_total{function="throttled",kind="lambda",upstream="default/aws"} 1`,
			`gluon_function_invocations_total{function="throttled",kind="lambda",upstream="default/aws"} 1`,
			`gluon_function_errors_total{function="throttled",kind="lambda",upstream="default/aws"} 0`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
	t.Run("slow function is 504", func(t *testing.T) {
		start := time.Now()
		if code, body := doBody(t, http.MethodPost, base+"/slow", nil, `{}`); code != 504 || time.Since(start) > 2*time.Second {
			t.Fatalf("%d %s after %s", code, body, time.Since(start))
		}
	})
	t.Run("a wrong secret shows on the upstream and its route is a clear 5xx; others serve", func(t *testing.T) {
		code, body := doBody(t, http.MethodPost, base+"/wrong", nil, `{}`)
		if code < 500 || !strings.Contains(body, "aws-wrong") {
			t.Fatalf("%d %s", code, body)
		}
		_, status := get(t, "http://"+cp.admin+"/statusz", nil)
		if !strings.Contains(status, "InvalidSignatureException") && !strings.Contains(status, "SignatureDoesNotMatch") {
			t.Fatalf("/statusz does not show the AWS error:\n%.2000s", status)
		}
		if code, _ := get(t, base+"/plain", nil); code != 200 {
			t.Fatalf("another route: %d", code)
		}
	})
	t.Run("credentials never appear in logs, /statusz or /snapshot", func(t *testing.T) {
		_, status := get(t, "http://"+cp.admin+"/statusz", nil)
		_, snapshot := get(t, "http://"+cp.admin+"/snapshot", nil)
		if !strings.Contains(snapshot, "gluon.aws_lambda") {
			t.Fatal("the snapshot has no Lambda filter; the check would prove nothing")
		}
		for where, text := range map[string]string{"logs": cp.Logs(), "/statusz": status, "/snapshot": snapshot} {
			for _, secret := range []string{awsSecretKey, awsAccessKey, "not-the-secret"} {
				if strings.Contains(text, secret) {
					t.Errorf("%s contains a credential (%s…)", where, secret[:4])
				}
			}
		}
	})
}
