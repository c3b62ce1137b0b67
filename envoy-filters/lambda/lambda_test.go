package lambda

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// headers is a fake header map with pseudo-headers, multi-valued.
type headers map[string][]string

func (h headers) Get(k string) (string, bool) {
	v := h[strings.ToLower(k)]
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}
func (h headers) Set(k, v string) { h[strings.ToLower(k)] = []string{v} }
func (h headers) Add(k, v string) { h[strings.ToLower(k)] = append(h[strings.ToLower(k)], v) }
func (h headers) Del(k string)    { delete(h, strings.ToLower(k)) }
func (h headers) Range(f func(k, v string) bool) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			if !f(k, v) {
				return
			}
		}
	}
}

const creds = `{"credentials": {"default/aws": {"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "secret", "sessionToken": "token"}}}`

func route(t testing.TB, cfg string) *Route {
	t.Helper()
	f, err := NewFilter([]byte(creds))
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.CompileRoute([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var fixed = time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)

// TestSignatureVerifies signs a request and verifies it the way AWS does:
// recomputing SigV4 over what was received.
func TestSignatureVerifies(t *testing.T) {
	r := route(t, `{"credentials": "default/aws", "region": "eu-west-1", "host": "lambda.eu-west-1.amazonaws.com", "functionName": "hello", "qualifier": "prod"}`)
	s := r.NewStream()
	s.now = func() time.Time { return fixed }
	h := headers{":method": {"GET"}, ":path": {"/hello?x=1"}, ":authority": {"gw"}, "cookie": {"c=1"}, "x-forwarded-for": {"10.0.0.1"}}
	payload, reply := s.OnRequest(h, []byte(`{"name": "world"}`))
	if reply != nil {
		t.Fatal(reply)
	}
	if h[":path"][0] != "/2015-03-31/functions/hello/invocations?Qualifier=prod" || h[":method"][0] != "POST" || h["x-amz-invocation-type"][0] != "RequestResponse" {
		t.Fatalf("headers %v", h)
	}
	if _, leaked := h["cookie"]; leaked {
		t.Fatal("client headers reach Lambda")
	}
	// What Lambda receives, re-signed independently.
	u, _ := url.Parse("https://" + h[":authority"][0] + h[":path"][0])
	req := &http.Request{Method: "POST", URL: u, Host: u.Host, Header: http.Header{}}
	for _, k := range []string{"content-type", "x-amz-invocation-type", "x-amz-log-type"} {
		req.Header.Set(k, h[k][0])
	}
	sum := sha256.Sum256(payload)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: "token"}, req, hex.EncodeToString(sum[:]), "lambda", "eu-west-1", fixed); err != nil {
		t.Fatal(err)
	}
	if got, want := h["authorization"][0], req.Header.Get("Authorization"); got != want {
		t.Fatalf("authorization\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(h["authorization"][0], "/eu-west-1/lambda/aws4_request") || h["x-amz-security-token"][0] != "token" {
		t.Fatalf("scope or token: %v", h)
	}
	if string(payload) != `{"name": "world"}` {
		t.Fatalf("raw payload %s", payload)
	}
}

func TestAsyncAndEmptyPayload(t *testing.T) {
	s := route(t, `{"credentials": "default/aws", "region": "us-east-1", "host": "h", "functionName": "f", "invocationStyle": "async"}`).NewStream()
	h := headers{":method": {"GET"}, ":path": {"/"}}
	payload, _ := s.OnRequest(h, nil)
	if string(payload) != "{}" || h["x-amz-invocation-type"][0] != "Event" || h["content-length"][0] != "2" {
		t.Fatalf("%s %v", payload, h)
	}
	resp := headers{":status": {"202"}}
	if body, changed, reply := s.OnResponse(resp, nil); body != nil || changed || reply != nil {
		t.Fatal("async 202 should pass as it is")
	}
}

// TestAPIGatewayEvents: both payload formats carry the request as API
// Gateway does: a binary body base64-encoded, the query and headers (multi-
// valued in 1.0), and a requestContext naming the client the proxy saw
// (not the X-Forwarded-For it sent), the request id, the account, the
// domain, the protocol and the time.
func TestAPIGatewayEvents(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		s := route(t, `{"credentials": "default/aws", "region": "r", "host": "h", "functionName": "f", "accountId": "123456789012", "wrapAsApiGateway": "`+v+`"}`).NewStream()
		s.now = func() time.Time { return fixed }
		s.SetClient(Client{Address: "192.0.2.7:5555", Protocol: "HTTP/1.1"})
		h := headers{":method": {"POST"}, ":path": {"/pets/7?a=1&a=2"}, ":authority": {"gw.test"}, "content-type": {"image/png"},
			"x-forwarded-for": {"10.1.1.1, 10.0.0.1"}, "cookie": {"a=1; b=2"}, "x-request-id": {"req-abc"}, "x-tag": {"one", "two"}}
		bin := []byte{0x89, 'P', 'N', 'G', 0xff}
		payload, reply := s.OnRequest(h, bin)
		if reply != nil {
			t.Fatal(reply)
		}
		var ev map[string]any
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		decoded, _ := base64.StdEncoding.DecodeString(ev["body"].(string))
		if ev["isBase64Encoded"] != true || !bytes.Equal(decoded, bin) {
			t.Fatalf("%s: binary body %v", v, ev["body"])
		}
		rc := ev["requestContext"].(map[string]any)
		if rc["requestId"] != "req-abc" || rc["accountId"] != "123456789012" || rc["domainName"] != "gw.test" {
			t.Errorf("%s requestContext %v", v, rc)
		}
		if v == "v1" {
			id := rc["identity"].(map[string]any)
			if ev["httpMethod"] != "POST" || ev["path"] != "/pets/7" || ev["queryStringParameters"].(map[string]any)["a"] != "2" ||
				len(ev["multiValueQueryStringParameters"].(map[string]any)["a"].([]any)) != 2 || len(ev["multiValueHeaders"].(map[string]any)["X-Tag"].([]any)) != 2 || ev["headers"].(map[string]any)["Content-Type"] != "image/png" ||
				id["sourceIp"] != "192.0.2.7" || rc["protocol"] != "HTTP/1.1" || rc["requestTimeEpoch"] != float64(fixed.UnixMilli()) {
				t.Fatalf("v1 event %s", payload)
			}
		} else if http := rc["http"].(map[string]any); ev["version"] != "2.0" || ev["rawPath"] != "/pets/7" || ev["rawQueryString"] != "a=1&a=2" ||
			http["method"] != "POST" || http["sourceIp"] != "192.0.2.7" || http["protocol"] != "HTTP/1.1" || len(ev["cookies"].([]any)) != 2 ||
			ev["headers"].(map[string]any)["host"] != "gw.test" || rc["domainPrefix"] != "gw" || rc["timeEpoch"] != float64(fixed.UnixMilli()) ||
			rc["time"] != "22/Nov/2026:06:00:00 +0000" {
			t.Fatalf("v2 event %s", payload)
		}
	}
}

// TestPayloadV1HeaderNamesAsReceived: payload 1.0 spells each header name
// as the client sent it, as API Gateway does. Over HTTP/1 that is the
// spelling the proxy recorded (here the request of AWS's own comparison of
// event formats: "Mixed-Case", lower-case "multi-value-header" and "host")
// and canonical for names it has no record of; over HTTP/2 every name is
// lower case on the wire and stays so.
func TestPayloadV1HeaderNamesAsReceived(t *testing.T) {
	for _, c := range []struct {
		client Client
		want   []string
	}{
		{Client{Protocol: "HTTP/1.1", ReceivedNames: map[string]string{"mixed-case": "Mixed-case", "multi-value-header": "multi-value-header",
			"no-value-header": "no-value-header", "host": "host"}},
			[]string{"Mixed-case", "User-Agent", "X-Request-Id", "host", "multi-value-header", "no-value-header"}},
		{Client{Protocol: "HTTP/1.0"}, []string{"Host", "Mixed-Case", "Multi-Value-Header", "No-Value-Header", "User-Agent", "X-Request-Id"}},
		{Client{Protocol: "HTTP/2"}, []string{"host", "mixed-case", "multi-value-header", "no-value-header", "user-agent", "x-request-id"}},
		{Client{Protocol: "HTTP/3"}, []string{"host", "mixed-case", "multi-value-header", "no-value-header", "user-agent", "x-request-id"}},
	} {
		s := route(t, `{"credentials": "default/aws", "region": "r", "host": "h", "functionName": "f", "wrapAsApiGateway": "v1"}`).NewStream()
		s.SetClient(c.client)
		h := headers{":method": {"GET"}, ":path": {"/"}, ":authority": {"gw.test"}, "mixed-case": {"header"},
			"multi-value-header": {"1", "", "2", "3,4"}, "no-value-header": {""}, "user-agent": {"curl/8.5.0"}, "x-request-id": {"r"}}
		payload, reply := s.OnRequest(h, nil) // it replaces h with the Invoke request's headers
		if reply != nil {
			t.Fatal(reply)
		}
		var ev struct {
			Headers           map[string]string
			MultiValueHeaders map[string][]string
		}
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		single, multi := slices.Sorted(maps.Keys(ev.Headers)), slices.Sorted(maps.Keys(ev.MultiValueHeaders))
		if !slices.Equal(single, c.want) || !slices.Equal(multi, c.want) {
			t.Errorf("%s %v: headers %v, multiValueHeaders %v, want %v", c.client.Protocol, c.client.ReceivedNames, single, multi, c.want)
		}
		mv := ev.MultiValueHeaders[c.client.receivedName("multi-value-header")]
		if !slices.Equal(mv, []string{"1", "", "2", "3,4"}) || ev.Headers[c.client.receivedName("multi-value-header")] != "3,4" {
			t.Errorf("%s: multi-value-header %q, last %q", c.client.Protocol, mv, ev.Headers[c.client.receivedName("multi-value-header")])
		}
	}
}

// TestEventRequestIDWhenNone: a request without x-request-id gets a new
// UUID in its event, a different one each time.
func TestEventRequestIDWhenNone(t *testing.T) {
	s := route(t, `{"credentials": "default/aws", "region": "r", "host": "h", "functionName": "f", "wrapAsApiGateway": "v2"}`).NewStream()
	ids := map[string]bool{}
	for range 2 {
		ev := s.eventContext(headers{})
		if len(ev.requestID) != 36 || ids[ev.requestID] {
			t.Fatalf("request id %q (seen: %v)", ev.requestID, ids)
		}
		ids[ev.requestID] = true
	}
}

func TestResponses(t *testing.T) {
	s := route(t, `{"credentials": "default/aws", "region": "r", "host": "h", "functionName": "f", "unwrapAsApiGateway": true}`).NewStream()
	cases := []struct {
		name   string
		h      headers
		body   string
		status int
		want   string
	}{
		{"function error, not shown", headers{":status": {"200"}, "x-amz-function-error": {"Unhandled"}, "x-amzn-requestid": {"req-1"}}, `{"errorMessage":"boom","stackTrace":["at secret.js:1"]}`, 502, "the Lambda function failed (request id req-1)"},
		{"throttled", headers{":status": {"429"}, "retry-after": {"7"}, "x-amzn-requestid": {"r"}}, `{"__type":"TooManyRequestsException","message":"Rate exceeded"}`, 429, "Rate exceeded"},
		{"bad signature", headers{":status": {"403"}, "x-amzn-errortype": {"InvalidSignatureException:http://internal"}}, `{"message":"The request signature we calculated does not match"}`, 502, "InvalidSignatureException"},
		{"not a proxy result", headers{":status": {"200"}}, `"hello"`, 502, "not an API Gateway"},
	}
	for _, c := range cases {
		_, _, reply := s.OnResponse(c.h, []byte(c.body))
		if reply == nil || reply.Status != c.status || !strings.Contains(reply.Body, c.want) {
			t.Errorf("%s: %+v", c.name, reply)
		}
		if strings.Contains(reply.Body, "boom") || strings.Contains(reply.Body, "secret.js") {
			t.Errorf("%s: the function's error reaches the client: %q", c.name, reply.Body)
		}
		if c.status == 429 && reply.Headers["retry-after"] != "7" {
			t.Errorf("retry-after %v", reply.Headers)
		}
	}
	if _, _, reply := s.OnResponse(headers{":status": {"504"}}, []byte("upstream request timeout")); reply != nil {
		t.Fatalf("the proxy's own 504 was rewritten: %+v", reply)
	}
	h := headers{":status": {"200"}, "x-amzn-requestid": {"r"}}
	body, changed, reply := s.OnResponse(h, []byte(`{"statusCode": 201, "headers": {"Content-Type": "image/png"}, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": "iVBORw==", "isBase64Encoded": true}`))
	if reply != nil || !changed || !bytes.Equal(body, []byte{0x89, 'P', 'N', 'G'}) || h[":status"][0] != "201" || len(h["set-cookie"]) != 2 || h["content-type"][0] != "image/png" {
		t.Fatalf("%v %q %v", reply, body, h)
	}
	if _, ok := h["x-amzn-requestid"]; ok {
		t.Fatal("Lambda's own headers leak into an unwrapped response")
	}
}

func TestRouteConfigErrors(t *testing.T) {
	f, _ := NewFilter([]byte(creds))
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	for _, cfg := range []string{`{}`, `{"region": "r", "host": "h", "functionName": "f", "invocationStyle": "later", "credentials": "default/aws"}`,
		`{"region": "r", "host": "h", "functionName": "f", "credentials": "default/unknown"}`, `not json`} {
		if _, err := f.CompileRoute([]byte(cfg)); err == nil {
			t.Errorf("%s: accepted", cfg)
		}
	}
}

// BenchmarkInvoke1KiB is the filter's added CPU per request: wrapping a
// 1 KiB body as an API Gateway event, signing it, and unwrapping the result.
func BenchmarkInvoke1KiB(b *testing.B) {
	r := route(b, `{"credentials": "default/aws", "region": "eu-west-1", "host": "lambda.eu-west-1.amazonaws.com", "functionName": "f", "wrapAsApiGateway": "v2", "unwrapAsApiGateway": true}`)
	body := bytes.Repeat([]byte("a"), 1024)
	result := []byte(`{"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "` + strings.Repeat("b", 1024) + `"}`)
	b.ReportAllocs()
	for b.Loop() {
		s := r.NewStream()
		h := headers{":method": {"POST"}, ":path": {"/f?x=1"}, ":authority": {"gw"}, "content-type": {"text/plain"}, "user-agent": {"bench"}}
		if _, reply := s.OnRequest(h, body); reply != nil {
			b.Fatal(reply)
		}
		if _, _, reply := s.OnResponse(headers{":status": {"200"}}, result); reply != nil {
			b.Fatal(reply)
		}
	}
}

// TestSecretRotationSignsWithTheNewKey: a secret key rotated under the same
// access key id signs the next request with the new key, both ways (the
// SDK's signer alone would reuse the key it derived from the old secret
// until the next UTC day).
func TestSecretRotationSignsWithTheNewKey(t *testing.T) {
	sign := func(secret string) string {
		f, err := NewFilter([]byte(`{"credentials": {"default/aws": {"accessKeyId": "AKIDROTATE", "secretAccessKey": "` + secret + `"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.CompileRoute([]byte(`{"credentials": "default/aws", "region": "eu-west-1", "host": "lambda.eu-west-1.amazonaws.com", "functionName": "hello"}`))
		if err != nil {
			t.Fatal(err)
		}
		s := r.NewStream()
		s.now = func() time.Time { return fixed }
		h := headers{":method": {"GET"}, ":path": {"/"}}
		if _, reply := s.OnRequest(h, nil); reply != nil {
			t.Fatal(reply)
		}
		return h["authorization"][0]
	}
	want := func(secret string) string {
		u, _ := url.Parse("https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/hello/invocations")
		req := &http.Request{Method: "POST", URL: u, Host: u.Host, Header: http.Header{"Content-Type": {"application/json"},
			"X-Amz-Invocation-Type": {"RequestResponse"}, "X-Amz-Log-Type": {"None"}}}
		sum := sha256.Sum256([]byte("{}"))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDROTATE", SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), "lambda", "eu-west-1", fixed); err != nil {
			t.Fatal(err)
		}
		return req.Header.Get("Authorization")
	}
	for _, secret := range []string{"wrong-secret", "right-secret", "wrong-secret"} {
		if got := sign(secret); got != want(secret) {
			t.Errorf("after rotating to %s: signed with another key\n got %s\nwant %s", secret, got, want(secret))
		}
	}
}

// TestFunctionErrorsToTheLog: a function's error goes to the log with the
// function and request id, and to the client only when the route passes
// function errors through.
func TestFunctionErrorsToTheLog(t *testing.T) {
	failed := headers{":status": {"200"}, "x-amz-function-error": {"Unhandled"}, "x-amzn-requestid": {"req-1"}}
	_, _, hidden := route(t, `{"credentials": "default/aws", "region": "r", "host": "h", "functionName": "f"}`).NewStream().OnResponse(failed, []byte(`{"errorMessage":"boom"}`))
	if hidden == nil || !strings.Contains(hidden.Detail, "function f failed (Unhandled, request id req-1)") || !strings.Contains(hidden.Detail, "boom") {
		t.Errorf("the log's detail: %+v", hidden)
	}
	_, _, shown := route(t, `{"credentials": "default/aws", "region": "r", "host": "h", "functionName": "f", "passFunctionErrors": true}`).NewStream().OnResponse(failed, []byte(`{"errorMessage":"boom"}`))
	if shown == nil || shown.Status != 502 || !strings.Contains(shown.Body, "boom") {
		t.Errorf("passed through: %+v", shown)
	}
}

// TestPayloadV2Unwrap: with payload format 2.0, cookies become Set-Cookie
// headers, and a result that is not an object with a statusCode is a 200
// whose JSON body is the result, as API Gateway's HTTP APIs answer.
func TestPayloadV2Unwrap(t *testing.T) {
	s := route(t, `{"credentials": "default/aws", "region": "r", "host": "h", "functionName": "f", "wrapAsApiGateway": "v2", "unwrapAsApiGateway": true}`).NewStream()
	h := headers{":status": {"200"}, "x-amzn-requestid": {"r"}}
	body, changed, reply := s.OnResponse(h, []byte(`{"statusCode": 200, "cookies": ["a=1; Path=/", "b=2"], "body": "ok"}`))
	if reply != nil || !changed || string(body) != "ok" || len(h["set-cookie"]) != 2 || h["set-cookie"][0] != "a=1; Path=/" {
		t.Fatalf("cookies: %v %q %v", reply, body, h)
	}
	for _, result := range []string{`{"message": "hi"}`, `"hello"`, `[1, 2]`, `42`} {
		h := headers{":status": {"200"}, "x-amzn-requestid": {"r"}}
		body, changed, reply := s.OnResponse(h, []byte(result))
		if reply != nil || !changed || string(body) != result || h[":status"][0] != "200" || h["content-type"][0] != "application/json" {
			t.Errorf("%s: %v %q %v", result, reply, body, h)
		}
	}
	if _, _, reply := s.OnResponse(headers{":status": {"200"}, "x-amzn-requestid": {"r"}}, []byte(`{"statusCode": "two hundred"}`)); reply == nil || reply.Status != 502 {
		t.Errorf("a malformed statusCode: %+v", reply)
	}
	v1 := route(t, `{"credentials": "default/aws", "region": "r", "host": "h", "functionName": "f", "unwrapAsApiGateway": true}`).NewStream()
	if _, _, reply := v1.OnResponse(headers{":status": {"200"}, "x-amzn-requestid": {"r"}}, []byte(`{"message": "hi"}`)); reply == nil || reply.Status != 502 {
		t.Errorf("payload 1.0 needs a statusCode: %+v", reply)
	}
}

// TestALBEvents: a request wrapped as an ALB target group event has the
// target group, the method and path, query values as sent (not decoded),
// the last value of each header and parameter, or all of them with
// multi-value headers on, and an empty body as "".
func TestALBEvents(t *testing.T) {
	for _, multi := range []bool{false, true} {
		cfg := fmt.Sprintf(`{"credentials": "default/aws", "region": "eu-west-1", "host": "h", "functionName": "f", "accountId": "123456789012", "wrapAsAlb": true, "albMultiValueHeaders": %v}`, multi)
		s := route(t, cfg).NewStream()
		h := headers{":method": {"GET"}, ":path": {"/pets?name=a%20b&tag=1&tag=2"}, ":authority": {"gw.test"}, "x-tag": {"one", "two"}}
		payload, reply := s.OnRequest(h, nil)
		if reply != nil {
			t.Fatal(reply)
		}
		var ev map[string]any
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		elb := ev["requestContext"].(map[string]any)["elb"].(map[string]any)
		if elb["targetGroupArn"] != "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/gluon/f" ||
			ev["httpMethod"] != "GET" || ev["path"] != "/pets" || ev["body"] != "" || ev["isBase64Encoded"] != false {
			t.Fatalf("event %s", payload)
		}
		if multi {
			q, hs := ev["multiValueQueryStringParameters"].(map[string]any), ev["multiValueHeaders"].(map[string]any)
			if len(q["tag"].([]any)) != 2 || q["name"].([]any)[0] != "a%20b" || len(hs["x-tag"].([]any)) != 2 || ev["headers"] != nil {
				t.Fatalf("multi-value event %s", payload)
			}
		} else if q, hs := ev["queryStringParameters"].(map[string]any), ev["headers"].(map[string]any); q["tag"] != "2" || q["name"] != "a%20b" || hs["x-tag"] != "two" || hs["host"] != "gw.test" {
			t.Fatalf("event %s", payload)
		}
	}
	if _, err := (&Filter{}).CompileRoute([]byte(`{"credentials": "x", "region": "r", "host": "h", "functionName": "f", "wrapAsAlb": true, "wrapAsApiGateway": "v1"}`)); err == nil || !strings.Contains(err.Error(), "only one of wrapAsApiGateway, wrapAsAlb") {
		t.Errorf("both wraps: %v", err)
	}
}
