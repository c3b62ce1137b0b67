package standin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestInvokeSync(t *testing.T) {
	s, url := start(t)
	c := client(url, testKey, testSecret, "")
	for _, tc := range []struct{ name, qualifier, version string }{
		{"echo", "", "$LATEST"},
		{"echo", "2", "2"},
		{"echo", "prod", "1"},
		{"echo:10", "", "10"},
		{"arn:aws:lambda:us-east-1:123456789012:function:echo:beta", "", "2"},
	} {
		in := &awslambda.InvokeInput{FunctionName: aws.String(tc.name), Payload: []byte(`{"hello":"world"}`), LogType: types.LogTypeTail}
		if tc.qualifier != "" {
			in.Qualifier = aws.String(tc.qualifier)
		}
		out, err := c.Invoke(ctx(t), in)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.name, tc.qualifier, err)
		}
		if out.StatusCode != 200 || string(out.Payload) != `{"hello":"world"}` || aws.ToString(out.ExecutedVersion) != tc.version || out.FunctionError != nil {
			t.Fatalf("%s %s: got %d %s %s", tc.name, tc.qualifier, out.StatusCode, out.Payload, aws.ToString(out.ExecutedVersion))
		}
		log, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
		if err != nil || !strings.HasPrefix(string(log), "START RequestId: ") || !strings.Contains(string(log), "Version: "+tc.version) {
			t.Fatalf("log %q %v", log, err)
		}
	}
	if n := s.Count("echo", "prod"); n != 1 {
		t.Fatalf("echo:prod invoked %d times", n)
	}
	if got := s.LastRequest(); got.Path != "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aecho%3Abeta/invocations" ||
		string(got.Body) != `{"hello":"world"}` || !strings.Contains(got.Header.Get("Authorization"), "Credential="+testKey+"/") {
		t.Fatalf("last request %+v", got)
	}
}

func TestInvokeAsyncAndDryRun(t *testing.T) {
	s, url := start(t)
	c := client(url, testKey, testSecret, "")
	out, err := c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo"), Qualifier: aws.String("1"),
		InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != 204 {
		t.Fatalf("dry run: %v %+v", err, out)
	}
	out, err = c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo"), Qualifier: aws.String("1"),
		InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"n":1}`)})
	if err != nil || out.StatusCode != 202 || len(out.Payload) != 0 {
		t.Fatalf("event: %v %+v", err, out)
	}
	invs, err := s.WaitInvocations(ctx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(invs) != 1 || invs[0].Type != Event || invs[0].Version != "1" || string(invs[0].Response) != `{"n":1}` {
		t.Fatalf("got %+v (the dry run must not count)", invs)
	}
}

func TestInvokeFunctionErrors(t *testing.T) {
	_, url := start(t)
	c := client(url, testKey, testSecret, "")
	out, err := c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("fail")})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" || string(out.Payload) != `{"errorMessage":"bad input","errorType":"ValidationError"}` {
		t.Fatalf("got %d %v %s", out.StatusCode, aws.ToString(out.FunctionError), out.Payload)
	}

	out, err = c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("slow")})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ ErrorMessage string }
	if json.Unmarshal(out.Payload, &doc); aws.ToString(out.FunctionError) != "Unhandled" || !strings.HasSuffix(doc.ErrorMessage, "Task timed out after 1.00 seconds") {
		t.Fatalf("got %v %s", aws.ToString(out.FunctionError), out.Payload)
	}

	_, err = c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo"), Qualifier: aws.String("7")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("got %v, want ResourceNotFoundException", err)
	}
	_, err = c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte("{not json")})
	wantCode(t, err, "InvalidRequestContentException")
}

// A function slower than the caller is willing to wait, but within its own
// Lambda timeout: the caller's deadline fires, not Lambda's.
func TestSlowFunctionHitsCallerTimeout(t *testing.T) {
	s, url := start(t)
	if err := s.AddFunction(Function{Name: "sluggish", Timeout: time.Minute, Handler: Sleep(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := client(url, testKey, testSecret, "").Invoke(c, &awslambda.InvokeInput{FunctionName: aws.String("sluggish")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the caller's deadline", err)
	}
}

func TestInvokeThrottled(t *testing.T) {
	s, url := start(t)
	s.Throttle("echo", 1500*time.Millisecond)
	c := client(url, testKey, testSecret, "")
	_, err := c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo")})
	var tooMany *types.TooManyRequestsException
	if !errors.As(err, &tooMany) || tooMany.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded ||
		aws.ToString(tooMany.RetryAfterSeconds) != "2" {
		t.Fatalf("got %v", err)
	}
	if _, err := c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("proxy")}); err != nil {
		t.Fatalf("another function is throttled too: %v", err)
	}
	s.Throttle("echo", 0)
	if _, err := c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("echo")}); err != nil {
		t.Fatal(err)
	}
	if n := s.Count("echo", ""); n != 1 {
		t.Fatalf("echo ran %d times, want 1 (throttled calls do not run)", n)
	}
}

func TestAPIGatewayEcho(t *testing.T) {
	_, url := start(t)
	c := client(url, testKey, testSecret, "")
	for name, event := range map[string]string{
		"v1": `{"httpMethod":"POST","path":"/pets","queryStringParameters":{"a":"1"},"headers":{"x-k":"v"},"body":"aGk=","isBase64Encoded":true}`,
		"v2": `{"version":"2.0","rawPath":"/pets","rawQueryString":"a=1","headers":{"x-k":"v"},"body":"hi","requestContext":{"http":{"method":"POST"}}}`,
	} {
		out, err := c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("proxy:1"), Payload: []byte(event)})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"statusCode":200,"headers":{"content-type":"application/json","x-lambda-version":"1"},` +
			`"body":"{\"method\":\"POST\",\"path\":\"/pets\",\"query\":{\"a\":\"1\"},\"headers\":{\"x-k\":\"v\"},\"body\":\"hi\",\"version\":\"1\"}","isBase64Encoded":false}`
		if string(out.Payload) != want {
			t.Fatalf("%s: got\n%s\nwant\n%s", name, out.Payload, want)
		}
	}
	out, err := c.Invoke(ctx(t), &awslambda.InvokeInput{FunctionName: aws.String("proxy"), Payload: []byte(`{"plain":true}`)})
	if err != nil || !strings.HasPrefix(string(out.Payload), `{"statusCode":400`) {
		t.Fatalf("got %v %s", err, out.Payload)
	}
}
