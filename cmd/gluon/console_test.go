package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/controlplane"
	"github.com/gluon-gateway/gluon/dataplane"
	"github.com/gluon-gateway/gluon/functions"
)

// consoleFixture is n static upstreams, each with a function, and n/10
// virtual services of 50 routes each; one virtual service was rejected
// before it could be read.
func consoleFixture(n int) (api.Resources, controlplane.Status) {
	var res api.Resources
	st := controlplane.Status{Ready: true}
	for i := range n {
		u := &api.Upstream{Spec: api.UpstreamSpec{Static: &api.StaticUpstream{Hosts: []api.Host{{Addr: "10.0.0.1", Port: 80}}}}}
		u.Name, u.Namespace = fmt.Sprintf("u%d", i), "default"
		res.Upstreams = append(res.Upstreams, u)
		ref := functions.UpstreamRef{Namespace: "default", Name: u.Name}
		st.Functions = append(st.Functions, functions.Discovered{Upstream: ref, Functions: []functions.Function{
			{Name: "get", Kind: functions.KindREST, REST: &functions.RESTFunction{Method: "GET", Path: "/items"}}}})
		st.Reports = append(st.Reports, api.Report{Key: api.KeyOf(u), State: api.Accepted})
	}
	for i := range n / 10 {
		vs := &api.VirtualService{}
		vs.Name, vs.Namespace = fmt.Sprintf("vs%d", i), "default"
		for j := range 50 {
			vs.Spec.VirtualHost.Routes = append(vs.Spec.VirtualHost.Routes, api.Route{Matchers: []api.Matcher{{Prefix: fmt.Sprintf("/r%d", j)}},
				RouteAction: &api.RouteAction{Single: &api.Destination{Upstream: &api.ResourceRef{Name: fmt.Sprintf("u%d", j)},
					DestinationSpec: &api.DestinationSpec{Rest: &api.RestDestinationSpec{FunctionName: "get"}}}}})
		}
		res.VirtualServices = append(res.VirtualServices, vs)
	}
	st.Reports = append(st.Reports, api.Report{Key: api.Key{Kind: api.KindVirtualService, Namespace: "default", Name: "broken"}, State: api.Rejected,
		Problems: []api.Problem{{Code: api.InvalidField, Message: "regex does not compile"}}})
	g := &api.Gateway{Spec: api.GatewaySpec{BindAddress: "0.0.0.0", BindPort: 8080}}
	res.Gateways = append(res.Gateways, g)
	return res, st
}

// TestConsoleView: upstreams with their functions, virtual services with
// what each route calls and the requests and errors counted on it, a rejected one that was never read with its
// reason, and the listeners "try it" may use.
func TestConsoleView(t *testing.T) {
	res, st := consoleFixture(20)
	v := consoleView(res, st, map[string]dataplane.RouteCounts{"default_vs0-route-1-matcher-0": {Requests: 7, Errors: 2}})
	if len(v.Upstreams) != 20 || v.Functions["default/u3"][0].Call != "GET /items" {
		t.Errorf("upstreams %+v functions %+v", v.Upstreams[:1], v.Functions["default/u3"])
	}
	if len(v.VirtualServices) != 3 || v.VirtualServices[0].Routes[1].Action != "→ u1 get" || v.VirtualServices[0].Routes[1].Match != "prefix /r1" ||
		v.VirtualServices[0].Routes[1].Requests != 7 || v.VirtualServices[0].Routes[1].Errors != 2 || v.VirtualServices[0].Routes[0].Requests != 0 {
		t.Errorf("virtual services %+v", v.VirtualServices)
	}
	if b := v.VirtualServices[2]; b.Key != "default/broken" || b.State != "Rejected" || !strings.Contains(strings.Join(b.Reasons, ""), "regex does not compile") {
		t.Errorf("the rejected one: %+v", b)
	}
	if len(v.Listeners) != 1 || v.Listeners[0] != "127.0.0.1:8080" {
		t.Errorf("listeners %v", v.Listeners)
	}
}

// TestTryItOnlyThroughGluon: "try it" refuses a listener that is not one
// of Gluon's (the console is no proxy to anywhere else) and a path that is
// not one.
func TestTryItOnlyThroughGluon(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("host " + r.Host)) }))
	defer backend.Close()
	listener := strings.TrimPrefix(backend.URL, "http://")
	for _, tc := range []struct {
		req    tryRequest
		status int
	}{
		{tryRequest{Listener: "169.254.169.254:80", Path: "/latest"}, 400},
		{tryRequest{Listener: listener, Path: "http://elsewhere/"}, 400},
		{tryRequest{Listener: listener, Path: "/x", Host: "shop.test"}, 200},
	} {
		b, _ := json.Marshal(tc.req)
		rec := httptest.NewRecorder()
		tryIt(rec, httptest.NewRequest(http.MethodPost, "/console/api/try", strings.NewReader(string(b))), []string{listener})
		if rec.Code != tc.status {
			t.Errorf("%+v: %d %s", tc.req, rec.Code, rec.Body)
			continue
		}
		var out tryResponse
		if tc.status == 200 && (json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.Status != 200 || out.Body != "host shop.test") {
			t.Errorf("through the listener: %s", rec.Body)
		}
	}
}

// BenchmarkConsoleState1kUpstreams5kRoutes is the server's time for the
// console's state of 1,000 upstreams and 5,000 routes (goal ≤ 200 ms):
// building it and encoding it, as each poll after a change does.
func BenchmarkConsoleState1kUpstreams5kRoutes(b *testing.B) {
	res, st := consoleFixture(1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(consoleView(res, st, nil)); err != nil {
			b.Fatal(err)
		}
	}
}
