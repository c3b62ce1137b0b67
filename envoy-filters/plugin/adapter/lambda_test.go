package adapter

import (
	"strings"
	"testing"

	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/lambdawire"
)

func TestLambdaSignsAndAddsPayload(t *testing.T) {
	p := LambdaParser{}
	listener, err := p.Parse(typed(t, lambdawire.ListenerType, `{"credentials": {"default/aws": {"accessKeyId": "AKID", "secretAccessKey": "s"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	route, err := p.Parse(typed(t, lambdawire.RouteType, `{"credentials": "default/aws", "region": "us-east-1", "host": "lambda.us-east-1.amazonaws.com", "functionName": "hello"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	added := []byte{}
	f := LambdaFactory(p.Merge(listener, route), fakeCallbacks{replies: &[]reply{}, added: &added})
	h := &fakeHeaders{m: map[string]string{":method": "GET", ":path": "/hello", "cookie": "secret"}}
	if st := f.DecodeHeaders(h, true); st != api.Continue {
		t.Fatalf("status %v", st)
	}
	if h.m[":path"] != "/2015-03-31/functions/hello/invocations" || !strings.HasPrefix(h.m["authorization"], "AWS4-HMAC-SHA256 Credential=AKID/") || h.m["cookie"] != "" {
		t.Fatalf("headers %v", h.m)
	}
	if string(added) != "{}" {
		t.Fatalf("payload %q", added)
	}
	rh := &fakeResponseHeaders{fakeHeaders: fakeHeaders{m: map[string]string{":status": "429", "retry-after": "3"}}}
	if st := f.EncodeHeaders(rh, false); st != api.StopAndBuffer {
		t.Fatalf("encode headers %v", st)
	}
}

func TestLambdaRouteWithoutCredentialsPassesThrough(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	logErrorf = t.Logf
	p := LambdaParser{}
	listener, _ := p.Parse(typed(t, lambdawire.ListenerType, `{}`), nil)
	route, _ := p.Parse(typed(t, lambdawire.RouteType, `{"credentials": "default/none", "region": "r", "host": "h", "functionName": "f"}`), nil)
	f := LambdaFactory(p.Merge(listener, route), fakeCallbacks{replies: &[]reply{}})
	h := &fakeHeaders{m: map[string]string{":path": "/x"}}
	if st := f.DecodeHeaders(h, true); st != api.Continue || h.m[":path"] != "/x" {
		t.Fatalf("%v %v", st, h.m)
	}
}

// TestLambdaEventNamesEnvoysClient: an API Gateway event names the client
// Envoy's stream info has, not the X-Forwarded-For the client sent.
func TestLambdaEventNamesEnvoysClient(t *testing.T) {
	p := LambdaParser{}
	listener, err := p.Parse(typed(t, lambdawire.ListenerType, `{"credentials": {"default/aws": {"accessKeyId": "AKID", "secretAccessKey": "s"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	route, err := p.Parse(typed(t, lambdawire.RouteType, `{"credentials": "default/aws", "region": "us-east-1", "host": "h", "functionName": "hello", "wrapAsApiGateway": "v2"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	added := []byte{}
	f := LambdaFactory(p.Merge(listener, route), fakeCallbacks{replies: &[]reply{}, added: &added})
	h := &fakeHeaders{m: map[string]string{":method": "GET", ":path": "/hello", "x-forwarded-for": "10.9.9.9"}}
	if st := f.DecodeHeaders(h, true); st != api.Continue {
		t.Fatalf("status %v", st)
	}
	if !strings.Contains(string(added), `"sourceIp":"192.0.2.7"`) || strings.Contains(string(added), `"sourceIp":"10.9.9.9"`) {
		t.Fatalf("event %s", added)
	}
}
