package standin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
)

func TestRefusedCredentials(t *testing.T) {
	s, url := start(t)
	s.AddCredentials("ASIATEMPORARY", "temp-secret", "the-session-token")
	invoke := func(c *awslambda.Client) error {
		_, err := c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"a":1}`)})
		return err
	}
	wantCode(t, invoke(client(url, testKey, "wrong-secret", "")), "InvalidSignatureException")
	wantCode(t, invoke(client(url, "AKIDUNKNOWN", testSecret, "")), "UnrecognizedClientException")
	wantCode(t, invoke(client(url, "ASIATEMPORARY", "temp-secret", "")), "UnrecognizedClientException")
	wantCode(t, invoke(client(url, "ASIATEMPORARY", "temp-secret", "another-token")), "UnrecognizedClientException")
	wantCode(t, invoke(client(url, testKey, testSecret, "a-token-the-key-has-not")), "UnrecognizedClientException")
	wantCode(t, invoke(client(url, testKey, testSecret, "", func(o *awslambda.Options) { o.Region = "eu-west-1" })), "InvalidSignatureException")
	if err := invoke(client(url, "ASIATEMPORARY", "temp-secret", "the-session-token")); err != nil {
		t.Fatalf("temporary credentials: %v", err)
	}
	if got := s.LastRequest().Header.Get("X-Amz-Security-Token"); got != "the-session-token" {
		t.Fatalf("security token %q", got)
	}
	if n := s.Count("echo", ""); n != 1 {
		t.Fatalf("echo ran %d times, want only the accepted call", n)
	}
}

// tamper lets the SDK sign, then changes the request on its way out.
func tamper(change func(*http.Request)) func(*awslambda.Options) {
	return func(o *awslambda.Options) {
		o.HTTPClient = doerFunc(func(r *http.Request) (*http.Response, error) {
			change(r)
			return http.DefaultClient.Do(r)
		})
	}
}

func TestTamperedRequestsAreRefused(t *testing.T) {
	s, url := start(t)
	for name, change := range map[string]func(*http.Request){
		"body": func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"a":2}`)) // same length, different bytes
		},
		"signed header": func(r *http.Request) { r.Header.Set("X-Amz-Log-Type", "Tail") },
		"query":         func(r *http.Request) { r.URL.RawQuery = "Qualifier=1" },
		"path":          func(r *http.Request) { r.URL.Path = strings.Replace(r.URL.Path, "echo", "fail", 1); r.URL.RawPath = "" },
	} {
		c := client(url, testKey, testSecret, "", tamper(change))
		_, err := c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"a":1}`), LogType: "None"})
		if err == nil {
			t.Fatalf("%s: tampered request accepted", name)
		}
		wantCode(t, err, "InvalidSignatureException")
	}
	// An unsigned header may change, as with AWS.
	c := client(url, testKey, testSecret, "", tamper(func(r *http.Request) { r.Header.Set("User-Agent", "proxy") }))
	if _, err := c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo")}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Invocations()); n != 1 {
		t.Fatalf("%d invocations, want 1", n)
	}
}

// raw signs a request by hand at the given time and returns the response.
func raw(t *testing.T, url string, when time.Time, body string, edit func(*http.Request)) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, url+"/2015-03-31/functions/echo/invocations", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "lambda", "us-east-1", when); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestRawSignatures(t *testing.T) {
	_, url := start(t)
	now := time.Now()
	for _, tc := range []struct {
		name   string
		when   time.Time
		edit   func(*http.Request)
		status int
		code   string
	}{
		{"fresh", now, nil, 200, ""},
		{"four minutes old", now.Add(-4 * time.Minute), nil, 200, ""},
		{"ten minutes old", now.Add(-10 * time.Minute), nil, 403, "InvalidSignatureException"},
		{"ten minutes ahead", now.Add(10 * time.Minute), nil, 403, "InvalidSignatureException"},
		{"unsigned", now, func(r *http.Request) { r.Header.Del("Authorization") }, 403, "MissingAuthenticationTokenException"},
		{"garbled", now, func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 nonsense") }, 400, "IncompleteSignatureException"},
		{"service scope", now, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/lambda/", "/s3/", 1))
		}, 403, "InvalidSignatureException"},
		{"extra body", now, func(r *http.Request) {
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(`{"a":1} `)), 8
		}, 403, "InvalidSignatureException"},
	} {
		resp := raw(t, url, tc.when, `{"a":1}`, tc.edit)
		if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-ErrorType") != tc.code {
			data, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s: got %d %s %s", tc.name, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), data)
		}
	}
}
