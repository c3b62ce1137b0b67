package adapter

import (
	"fmt"
	"strings"
	"testing"

	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/azurewire"
)

func azureFilterFor(t *testing.T, routeJSON string, replies *[]reply) api.StreamFilter {
	t.Helper()
	p := AzureParser{}
	listener, err := p.Parse(typed(t, azurewire.ListenerType, `{"keys": {"default/app": {"functionKeys": {"hello": "fn-key"}}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	route, err := p.Parse(typed(t, azurewire.RouteType, routeJSON), nil)
	if err != nil {
		t.Fatal(err)
	}
	return AzureFactory(p.Merge(listener, route), fakeCallbacks{replies: replies})
}

func TestAzureAddsKeyAndRewrites(t *testing.T) {
	var warned []string
	logWarnf = func(format string, args ...any) { warned = append(warned, fmt.Sprintf(format, args...)) }
	f := azureFilterFor(t, `{"upstream": "default/app", "functionName": "hello", "path": "/api/hello", "host": "app.azurewebsites.net"}`, &[]reply{})
	h := &fakeHeaders{m: map[string]string{":path": "/hello?name=x", ":authority": "gw", "x-functions-key": "client"}}
	if st := f.DecodeHeaders(h, false); st != api.Continue {
		t.Fatalf("status %v", st)
	}
	if h.m[":path"] != "/api/hello?name=x" || h.m[":authority"] != "app.azurewebsites.net" || h.m["x-functions-key"] != "fn-key" {
		t.Fatalf("headers %v", h.m)
	}
	rh := &fakeResponseHeaders{fakeHeaders: fakeHeaders{m: map[string]string{":status": "401"}}}
	if st := f.EncodeHeaders(rh, false); st != api.Continue || rh.m[":status"] != "401" {
		t.Fatalf("encode %v %v", st, rh.m)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "function hello") {
		t.Fatalf("warnings %q", warned)
	}
}

func TestAzureMissingKeyReplies502(t *testing.T) {
	replies := []reply{}
	f := azureFilterFor(t, `{"upstream": "default/other", "functionName": "hello", "path": "/api/hello", "host": "h"}`, &replies)
	if st := f.DecodeHeaders(&fakeHeaders{m: map[string]string{":path": "/hello"}}, true); st != api.LocalReply {
		t.Fatalf("status %v", st)
	}
	if len(replies) != 1 || replies[0].status != 502 || !strings.Contains(replies[0].body, "no key for function hello") {
		t.Fatalf("replies %+v", replies)
	}
}

func TestAzureBadRouteConfigPassesThrough(t *testing.T) {
	logErrorf = t.Logf
	f := azureFilterFor(t, `{"upstream": "default/app", "functionName": "hello", "path": "relative", "host": "h"}`, &[]reply{})
	h := &fakeHeaders{m: map[string]string{":path": "/x"}}
	if st := f.DecodeHeaders(h, true); st != api.Continue || h.m[":path"] != "/x" {
		t.Fatalf("%v %v", st, h.m)
	}
}
