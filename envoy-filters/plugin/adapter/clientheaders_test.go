package adapter

import (
	"testing"

	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/clientheaderswire"
)

// TestClientHeadersSetsTheClientsHeaders: through Envoy's parser, merge
// and factory, a route's client gets its headers; a route without config
// passes requests through untouched.
func TestClientHeadersSetsTheClientsHeaders(t *testing.T) {
	p := ClientHeadersParser
	listener, err := p.Parse(typed(t, clientheaderswire.ListenerType, `{}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	route, err := p.Parse(typed(t, clientheaderswire.RouteType, `{"clientHeader": "x-client", "headers": {"alice": {"x-plan": "gold"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &fakeHeaders{m: map[string]string{"x-client": "alice", "x-plan": "forged"}}
	if st := ClientHeadersFactory(p.Merge(listener, route), fakeCallbacks{}).DecodeHeaders(h, true); st != api.Continue {
		t.Fatalf("status %v", st)
	}
	if h.m["x-plan"] != "gold" || h.m["x-client"] != "alice" {
		t.Fatalf("headers %v", h.m)
	}
	untouched := &fakeHeaders{m: map[string]string{"x-plan": "mine"}}
	ClientHeadersFactory(listener, fakeCallbacks{}).DecodeHeaders(untouched, true)
	if untouched.m["x-plan"] != "mine" {
		t.Fatalf("a route without config: %v", untouched.m)
	}
	if _, err := p.Parse(typed(t, clientheaderswire.RouteType, `{"headers": {}}`), nil); err == nil {
		t.Fatal("a route config without clientHeader was accepted")
	}
}
