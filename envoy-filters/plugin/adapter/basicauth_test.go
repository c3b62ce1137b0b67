package adapter

import (
	"encoding/base64"
	"testing"

	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/basicauthwire"
)

// TestBasicAuthRefusesWithAChallenge: through Envoy's parser, merge and
// factory, a {SHA} user's password is admitted and a wrong one refused
// with Envoy's 401 and a Basic challenge; a route without config passes.
func TestBasicAuthRefusesWithAChallenge(t *testing.T) {
	p := BasicAuthParser
	listener, err := p.Parse(typed(t, basicauthwire.ListenerType, `{}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	route, err := p.Parse(typed(t, basicauthwire.RouteType, `{"users": "dave:{SHA}cojt0Pw//L6ToM8G41aOKFIWh7w=", "forwardUsernameHeader": "x-user"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	auth := func(pass string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte("dave:"+pass)) }
	replies := []reply{}
	right := &fakeHeaders{m: map[string]string{"authorization": auth("test123")}}
	if st := BasicAuthFactory(p.Merge(listener, route), fakeCallbacks{replies: &replies}).DecodeHeaders(right, true); st != api.Continue || right.m["x-user"] != "dave" {
		t.Fatalf("the right password: %v %v", st, right.m)
	}
	wrong := &fakeHeaders{m: map[string]string{"authorization": auth("nope"), ":authority": "h", ":path": "/p"}}
	if st := BasicAuthFactory(p.Merge(listener, route), fakeCallbacks{replies: &replies}).DecodeHeaders(wrong, true); st != api.LocalReply {
		t.Fatalf("a wrong password: %v", st)
	}
	if len(replies) != 1 || replies[0].status != 401 || replies[0].headers["www-authenticate"][0] != `Basic realm="http://h/p"` {
		t.Fatalf("replies %+v", replies)
	}
	if st := BasicAuthFactory(listener, fakeCallbacks{replies: &replies}).DecodeHeaders(&fakeHeaders{m: map[string]string{}}, true); st != api.Continue {
		t.Fatalf("a route without config: %v", st)
	}
}
