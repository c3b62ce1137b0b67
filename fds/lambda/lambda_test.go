package lambda

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gluon-gateway/gluon/fds/lambda/standin"
	"github.com/gluon-gateway/gluon/functions"
)

const (
	key    = "AKIDDISCOVERY"
	secret = "discovery-secret"
)

// stand serves a stand-in (page size 2, so every listing spans pages) with
// a few functions and one accepted key.
func stand(t testing.TB) (*standin.Server, string) {
	t.Helper()
	s := standin.New(standin.Options{Region: "eu-west-1", Account: "111122223333"})
	s.AddCredentials(key, secret, "")
	for _, f := range []standin.Function{
		{Name: "alpha", Runtime: "python3.12", Versions: []string{"1", "2"}, Aliases: map[string]string{"prod": "1", "live": "$LATEST", "canary": "2"}},
		{Name: "beta"},
		{Name: "gamma", Runtime: "nodejs22.x", Versions: []string{"1", "2", "3"}, Aliases: map[string]string{"a1": "1", "a2": "2", "a3": "3", "a4": "3", "a5": "1"}},
	} {
		f.Handler = standin.Echo
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

func discover(t *testing.T, cfg Config) ([]functions.Function, error) {
	t.Helper()
	if cfg.Region == "" {
		cfg.Region = "eu-west-1"
	}
	cfg.RetryMaxAttempts = 1 // see each first answer
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return d.Discover(ctx)
}

func summary(fns []functions.Function) string {
	var b strings.Builder
	for _, f := range fns {
		l := f.Lambda
		fmt.Fprintf(&b, "%s %s %s %q %s %s\n", f.Name, f.Kind, l.FunctionName, l.Qualifier, l.Runtime,
			strings.TrimPrefix(l.ARN, "arn:aws:lambda:eu-west-1:111122223333:function:"))
	}
	return b.String()
}

const wantStandin = `alpha Lambda alpha "" python3.12 alpha
alpha:1 Lambda alpha "1" python3.12 alpha:1
alpha:2 Lambda alpha "2" python3.12 alpha:2
alpha:canary Lambda alpha "canary" python3.12 alpha:canary
alpha:live Lambda alpha "live" python3.12 alpha:live
alpha:prod Lambda alpha "prod" python3.12 alpha:prod
beta Lambda beta "" provided.al2023 beta
gamma Lambda gamma "" nodejs22.x gamma
gamma:1 Lambda gamma "1" nodejs22.x gamma:1
gamma:2 Lambda gamma "2" nodejs22.x gamma:2
gamma:3 Lambda gamma "3" nodejs22.x gamma:3
gamma:a1 Lambda gamma "a1" nodejs22.x gamma:a1
gamma:a2 Lambda gamma "a2" nodejs22.x gamma:a2
gamma:a3 Lambda gamma "a3" nodejs22.x gamma:a3
gamma:a4 Lambda gamma "a4" nodejs22.x gamma:a4
gamma:a5 Lambda gamma "a5" nodejs22.x gamma:a5
`

func TestDiscoverVersionsAndAliasesAcrossPages(t *testing.T) {
	_, url := stand(t)
	fns, err := discover(t, Config{Endpoint: url, AccessKeyID: key, SecretAccessKey: secret})
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(fns); got != wantStandin {
		t.Fatalf("got\n%s\nwant\n%s", got, wantStandin)
	}
}

func TestTemporaryCredentialsAndProvider(t *testing.T) {
	s, url := stand(t)
	s.AddCredentials("ASIATEMP", "temp-secret", "session")
	if _, err := discover(t, Config{Endpoint: url, AccessKeyID: "ASIATEMP", SecretAccessKey: "temp-secret", SessionToken: "session"}); err != nil {
		t.Fatal(err)
	}
	provider := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, nil
	})
	fns, err := discover(t, Config{Endpoint: url, Credentials: provider})
	if err != nil || summary(fns) != wantStandin {
		t.Fatalf("got %v\n%s", err, summary(fns))
	}
}

func TestRefusedCredentialsArePermanent(t *testing.T) {
	_, url := stand(t)
	for _, tc := range []struct {
		cfg  Config
		code string
	}{
		{Config{AccessKeyID: key, SecretAccessKey: "wrong"}, "InvalidSignatureException"},
		{Config{AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: secret}, "UnrecognizedClientException"},
		{Config{AccessKeyID: key, SecretAccessKey: secret, Region: "us-west-2"}, "InvalidSignatureException"},
	} {
		tc.cfg.Endpoint = url
		_, err := discover(t, tc.cfg)
		if ErrorCode(err) != tc.code || IsTransient(err) {
			t.Fatalf("got %v (code %q, transient %v), want permanent %s", err, ErrorCode(err), IsTransient(err), tc.code)
		}
	}
}

func TestThrottlingIsTransient(t *testing.T) {
	s, url := stand(t)
	s.ThrottleAPI(time.Second)
	_, err := discover(t, Config{Endpoint: url, AccessKeyID: key, SecretAccessKey: secret})
	if ErrorCode(err) != "TooManyRequestsException" || !IsTransient(err) {
		t.Fatalf("got %v (code %q), want transient TooManyRequestsException", err, ErrorCode(err))
	}
}

func TestNewNeedsRegionAndCredentials(t *testing.T) {
	if _, err := New(Config{AccessKeyID: key, SecretAccessKey: secret}); err == nil {
		t.Fatal("no region accepted")
	}
	if _, err := New(Config{Region: "eu-west-1", AccessKeyID: key}); err == nil {
		t.Fatal("no secret accepted")
	}
	if IsTransient(nil) || ErrorCode(errors.New("plain")) != "" {
		t.Fatal("nil and plain errors carry no code and are not transient")
	}
}

// Aliases count towards MaxFunctions across functions (8 versions here,
// then 3 + 5 aliases, each function's within the 5 left, not together).
func TestMaxFunctionsCountsAliases(t *testing.T) {
	_, url := stand(t)
	_, err := discover(t, Config{Endpoint: url, AccessKeyID: key, SecretAccessKey: secret, MaxFunctions: 13})
	if !errors.Is(err, ErrTooManyFunctions) || IsTransient(err) {
		t.Fatalf("got %v, want ErrTooManyFunctions", err)
	}
	if _, err := discover(t, Config{Endpoint: url, AccessKeyID: key, SecretAccessKey: secret, MaxFunctions: 16}); err != nil {
		t.Fatalf("exactly MaxFunctions: %v", err)
	}
}
