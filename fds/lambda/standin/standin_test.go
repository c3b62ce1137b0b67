package standin

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"
)

const (
	testKey    = "AKIDSTANDINTEST"
	testSecret = "standin-secret"
)

// start serves a stand-in with a few functions and one accepted key.
func start(t *testing.T) (*Server, string) {
	t.Helper()
	s := New(Options{})
	s.AddCredentials(testKey, testSecret, "")
	for _, f := range []Function{
		{Name: "echo", Versions: []string{"1", "2", "10"}, Aliases: map[string]string{"prod": "1", "beta": "2", "edge": "$LATEST"}, Runtime: "nodejs22.x", Handler: Echo},
		{Name: "fail", Handler: Fail("ValidationError", "bad input")},
		{Name: "proxy", Versions: []string{"1"}, Handler: APIGatewayEcho},
		{Name: "slow", Timeout: time.Second, Handler: Sleep(10 * time.Second)},
	} {
		if err := s.AddFunction(f); err != nil {
			t.Fatal(err)
		}
	}
	ep, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	return s, ep.URL
}

// client is the real SDK client, pointed at url. Retries are off so that
// tests see the stand-in's first answer.
func client(url, key, secret, token string, opts ...func(*awslambda.Options)) *awslambda.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, secret, token)}
	return awslambda.NewFromConfig(cfg, append([]func(*awslambda.Options){func(o *awslambda.Options) {
		o.BaseEndpoint = aws.String(url)
		o.RetryMaxAttempts = 1
	}}, opts...)...)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
		t.Fatalf("got %v, want error code %s", err, code)
	}
}

// doerFunc adapts a function to the SDK's HTTPClient.
type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }
