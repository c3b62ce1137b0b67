package standin

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const testRole = "arn:aws:iam::123456789012:role/team/invoker"

// stsClient is the real STS client, pointed at url, without retries.
func stsClient(url, key, secret string) *sts.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")}
	return sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.BaseEndpoint = aws.String(url)
		o.RetryMaxAttempts = 1
	})
}

func TestAssumeRoleIssuesCredentialsLambdaAccepts(t *testing.T) {
	s, url := start(t)
	s.AllowAssumeRole(testKey, testRole)
	creds, err := stscreds.NewAssumeRoleProvider(stsClient(url, testKey, testSecret), testRole, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "standin-test"
	}).Retrieve(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	issued := s.AssumedRoles()
	if len(issued) != 1 || issued[0].AccessKeyID != creds.AccessKeyID || issued[0].SessionToken != creds.SessionToken ||
		!issued[0].Expiration.Equal(creds.Expires) || issued[0].SourceAccessKey != testKey || issued[0].RoleSessionName != "standin-test" {
		t.Fatalf("issued %+v, the SDK read %+v", issued, creds)
	}
	// STS's minimum session (15 min, what the SDK asks by default) is issued.
	if left := time.Until(creds.Expires); left < 14*time.Minute || left > 16*time.Minute {
		t.Fatalf("expires in %s", left)
	}
	_, err = client(url, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken).Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo")})
	if err != nil {
		t.Fatalf("invoking with the role's credentials: %v", err)
	}
	if got := s.LastRequest().Header.Get("X-Amz-Security-Token"); got != creds.SessionToken {
		t.Fatalf("security token %q", got)
	}
	// The session token is part of the credentials: without it, refused.
	_, err = client(url, creds.AccessKeyID, creds.SecretAccessKey, "").Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo")})
	wantCode(t, err, "UnrecognizedClientException")
}

func TestAssumeRoleRefusals(t *testing.T) {
	s, url := start(t)
	s.AllowAssumeRole(testKey, testRole)
	assume := func(c *sts.Client, role string) error {
		_, err := c.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
		return err
	}
	wantCode(t, assume(stsClient(url, testKey, testSecret), "arn:aws:iam::123456789012:role/other"), "AccessDenied")
	wantCode(t, assume(stsClient(url, testKey, "wrong-secret"), testRole), "SignatureDoesNotMatch")
	wantCode(t, assume(stsClient(url, "AKIDUNKNOWN", testSecret), testRole), "InvalidClientTokenId")
	wantCode(t, assume(stsClient(url, testKey, testSecret), "not-an-arn"), "ValidationError")
	_, err := stsClient(url, testKey, testSecret).AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String(testRole),
		RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(60)})
	wantCode(t, err, "ValidationError")
	// A body changed after signing (another session name, same length).
	tampered := sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, "")}, func(o *sts.Options) {
		o.BaseEndpoint, o.RetryMaxAttempts = aws.String(url), 1
		o.HTTPClient = doerFunc(func(r *http.Request) (*http.Response, error) {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte("RoleSessionName=s1"), []byte("RoleSessionName=s2"), 1)))
			return http.DefaultClient.Do(r)
		})
	})
	wantCode(t, assume(tampered, testRole), "SignatureDoesNotMatch")
	if n := len(s.AssumedRoles()); n != 0 {
		t.Fatalf("%d credentials issued by refused calls", n)
	}
}

func TestAssumedCredentialsExpire(t *testing.T) {
	s := New(Options{AssumedRoleLifetime: time.Second})
	s.AddCredentials(testKey, testSecret, "")
	s.AllowAssumeRole(testKey, testRole)
	if err := s.AddFunction(Function{Name: "echo", Handler: Echo}); err != nil {
		t.Fatal(err)
	}
	ep, err := s.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	out, err := stsClient(ep.URL, testKey, testSecret).AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String(testRole), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if left := time.Until(aws.ToTime(c.Expiration)); left > time.Second {
		t.Fatalf("expires in %s, want the configured 1 s", left)
	}
	if want := "arn:aws:sts::123456789012:assumed-role/invoker/s1"; aws.ToString(out.AssumedRoleUser.Arn) != want {
		t.Fatalf("assumed role user %s, want %s", aws.ToString(out.AssumedRoleUser.Arn), want)
	}
	time.Sleep(time.Until(aws.ToTime(c.Expiration)) + 50*time.Millisecond)
	_, err = client(ep.URL, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)).
		Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo")})
	wantCode(t, err, "ExpiredTokenException")
}
