package standin

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

func TestListFunctionsAllVersionsAcrossPages(t *testing.T) {
	_, url := start(t)
	c := client(url, testKey, testSecret, "")
	p := awslambda.NewListFunctionsPaginator(c, &awslambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll})
	var got []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range out.Functions {
			got = append(got, fmt.Sprintf("%s %s %s %s %d", *f.FunctionName, *f.Version, *f.FunctionArn, f.Runtime, *f.Timeout))
		}
	}
	want := `echo $LATEST arn:aws:lambda:us-east-1:123456789012:function:echo nodejs22.x 3
echo 1 arn:aws:lambda:us-east-1:123456789012:function:echo:1 nodejs22.x 3
echo 2 arn:aws:lambda:us-east-1:123456789012:function:echo:2 nodejs22.x 3
echo 10 arn:aws:lambda:us-east-1:123456789012:function:echo:10 nodejs22.x 3
fail $LATEST arn:aws:lambda:us-east-1:123456789012:function:fail provided.al2023 3
proxy $LATEST arn:aws:lambda:us-east-1:123456789012:function:proxy provided.al2023 3
proxy 1 arn:aws:lambda:us-east-1:123456789012:function:proxy:1 provided.al2023 3
slow $LATEST arn:aws:lambda:us-east-1:123456789012:function:slow provided.al2023 1`
	if g := strings.Join(got, "\n"); g != want {
		t.Fatalf("got\n%s\nwant\n%s", g, want)
	}
	if pages != 4 {
		t.Fatalf("%d pages, want 4 (page size 2)", pages)
	}
}

func TestListFunctionsLatestOnlyAndMaxItems(t *testing.T) {
	_, url := start(t)
	out, err := client(url, testKey, testSecret, "").ListFunctions(ctx(t), &awslambda.ListFunctionsInput{MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Functions) != 1 || *out.Functions[0].Version != "$LATEST" || out.NextMarker == nil {
		t.Fatalf("got %+v", out)
	}
	out, err = client(url, testKey, testSecret, "").ListFunctions(ctx(t), &awslambda.ListFunctionsInput{Marker: out.NextMarker, MaxItems: aws.Int32(10)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Functions) != 2 || *out.Functions[0].FunctionName != "fail" || *out.Functions[1].Version != "$LATEST" {
		t.Fatalf("got %+v", out.Functions)
	}
	_, err = client(url, testKey, testSecret, "").ListFunctions(ctx(t), &awslambda.ListFunctionsInput{Marker: aws.String("garbage")})
	wantCode(t, err, "InvalidParameterValueException")
}

func TestListAliasesAcrossPages(t *testing.T) {
	_, url := start(t)
	c := client(url, testKey, testSecret, "")
	p := awslambda.NewListAliasesPaginator(c, &awslambda.ListAliasesInput{FunctionName: aws.String("echo")})
	var got []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Aliases {
			got = append(got, *a.Name+"->"+*a.FunctionVersion+" "+*a.AliasArn)
		}
	}
	want := "beta->2 arn:aws:lambda:us-east-1:123456789012:function:echo:beta," +
		"edge->$LATEST arn:aws:lambda:us-east-1:123456789012:function:echo:edge," +
		"prod->1 arn:aws:lambda:us-east-1:123456789012:function:echo:prod"
	if g := strings.Join(got, ","); g != want {
		t.Fatalf("got %s\nwant %s", g, want)
	}
	_, err := c.ListAliases(ctx(t), &awslambda.ListAliasesInput{FunctionName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestAPIThrottling(t *testing.T) {
	s, url := start(t)
	s.ThrottleAPI(3e9)
	_, err := client(url, testKey, testSecret, "").ListFunctions(ctx(t), &awslambda.ListFunctionsInput{})
	var tooMany *types.TooManyRequestsException
	if !errors.As(err, &tooMany) || tooMany.Reason != "CallerRateLimitExceeded" || aws.ToString(tooMany.RetryAfterSeconds) != "3" {
		t.Fatalf("got %v", err)
	}
	s.ThrottleAPI(0)
	if _, err := client(url, testKey, testSecret, "").ListFunctions(ctx(t), &awslambda.ListFunctionsInput{}); err != nil {
		t.Fatal(err)
	}
}
