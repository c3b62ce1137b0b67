package dataplane

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// sink is a mirror cluster's backend: it reports each request it receives
// on got and, while hold is open, does not answer.
type sink struct {
	srv    *httptest.Server
	got    chan seen
	hold   chan struct{}
	answer func() // lets the sink answer, now and from then on
}

func newSink(t *testing.T, status int) *sink {
	t.Helper()
	s := &sink{got: make(chan seen, 16), hold: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.got <- seen{Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header, Body: string(body)}
		<-s.hold
		w.WriteHeader(status)
	}))
	s.answer = sync.OnceFunc(func() { close(s.hold) })
	// Cleanups run last first: held requests are let go, so Close can end.
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.answer)
	return s
}

func (s *sink) next(t *testing.T) seen {
	t.Helper()
	select {
	case got := <-s.got:
		return got
	case <-time.After(5 * time.Second):
		t.Fatal("the mirror received nothing")
		return seen{}
	}
}

func mirrorTo(cluster string, percent uint32) *routev3.RouteAction_RequestMirrorPolicy {
	p := &routev3.RouteAction_RequestMirrorPolicy{Cluster: cluster}
	if percent < 100 {
		p.RuntimeFraction = &core.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: percent, Denominator: typev3.FractionalPercent_HUNDRED}}
	}
	return p
}

func mirrored(prefix, cluster string, mirrors ...*routev3.RouteAction_RequestMirrorPolicy) *routev3.Route {
	return withAction(prefixRoute(prefix, cluster), func(a *routev3.RouteAction) { a.RequestMirrorPolicies = mirrors })
}

// post sends a body through the data plane and decodes the primary's report.
func (e *env) post(host, path string, body io.Reader) seen {
	e.t.Helper()
	resp := e.do("POST", host, path, http.Header{"X-Trace": {"t1"}}, body)
	defer resp.Body.Close()
	var s seen
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("POST %s: status %d, %v", path, resp.StatusCode, err)
	}
	return s
}

func (e *env) waitMirrors(what string, cond func(MirrorStats) bool) {
	e.t.Helper()
	var last MirrorStats
	defer func() {
		if e.t.Failed() {
			e.t.Logf("last mirror stats: %+v", last)
		}
	}()
	waitFor(e.t, what, func() bool { last = e.dp.Status().Mirrors; return cond(last) })
}

func TestMirrorGetsTheRequestAsSentUpstream(t *testing.T) {
	e := newEnv(t)
	primary, shadow := backend(t, "primary"), newSink(t, http.StatusOK)
	shadow.answer()
	rt := withAction(mirrored("/api/", "primary", mirrorTo("shadow", 100)), func(a *routev3.RouteAction) { a.PrefixRewrite = "/v2/" })
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, rt)), map[string]*httptest.Server{"primary": primary, "shadow": shadow.srv}))

	// A body of known length, then a chunked one: both are read once and
	// sent to both clusters.
	for i, body := range []io.Reader{strings.NewReader("hello body"), io.MultiReader(strings.NewReader("hello "), strings.NewReader("body"))} {
		got := e.post("client.example", "/api/items?x=1", body)
		if got.Backend != "primary" || got.Body != "hello body" || got.URI != "/v2/items?x=1" {
			t.Fatalf("request %d: the client got %+v, want the primary's answer", i, got)
		}
		m := shadow.next(t)
		if m.Method != "POST" || m.URI != "/v2/items?x=1" || m.Host != "client.example-shadow" || m.Body != "hello body" {
			t.Errorf("request %d: the mirror got %s %s (host %s) %q, want POST /v2/items?x=1 (host client.example-shadow) \"hello body\"", i, m.Method, m.URI, m.Host, m.Body)
		}
		for _, h := range []string{"X-Trace", "X-Request-Id", "X-Forwarded-For"} {
			if m.Header.Get(h) == "" || m.Header.Get(h) != got.Header.Get(h) {
				t.Errorf("request %d: %s is %q at the mirror, %q at the primary", i, h, m.Header.Get(h), got.Header.Get(h))
			}
		}
	}
	e.waitMirrors("two answered mirrors", func(s MirrorStats) bool { return s.Sent == 2 && s.Answered == 2 })
}

func TestMirrorNeverAffectsThePrimary(t *testing.T) {
	e := newEnv(t)
	primary := backend(t, "primary")
	slow, failing := newSink(t, http.StatusOK), newSink(t, http.StatusInternalServerError)
	failing.answer()
	r := e.basic(routeConfig("rc", vhost("all", []string{"*"},
		mirrored("/slow", "primary", mirrorTo("slow", 100)),
		mirrored("/500", "primary", mirrorTo("failing", 100)),
		mirrored("/dead", "primary", mirrorTo("dead", 100)),
	)), map[string]*httptest.Server{"primary": primary, "slow": slow.srv, "failing": failing.srv})
	r.clusters = append(r.clusters, edsCluster("dead"))
	r.endpoints = append(r.endpoints, cla("dead", refusingAddr(t)))
	e.push(r)

	// The slow mirror holds its request while the primary answers.
	if got := e.post("", "/slow", strings.NewReader("x")); got.Backend != "primary" {
		t.Fatalf("the client got %+v", got)
	}
	slow.next(t)
	if s := e.dp.Status().Mirrors; s.Sent != 1 || s.Answered != 0 {
		t.Fatalf("mirror stats %+v while the mirror holds the request", s)
	}
	slow.answer()
	e.waitMirrors("the slow mirror answered", func(s MirrorStats) bool { return s.Answered == 1 })

	// A mirror answering 500 or refusing connections changes nothing either.
	if got := e.post("", "/500", strings.NewReader("x")); got.Backend != "primary" {
		t.Fatalf("the client got %+v", got)
	}
	failing.next(t)
	if got := e.post("", "/dead", strings.NewReader("x")); got.Backend != "primary" {
		t.Fatalf("the client got %+v", got)
	}
	e.waitMirrors("a failed mirror counted", func(s MirrorStats) bool { return s.Answered == 2 && s.Failed == 1 })
}

func TestMirrorZeroPercentSendsNothing(t *testing.T) {
	e := newEnv(t)
	primary, shadow := backend(t, "primary"), newSink(t, http.StatusOK)
	shadow.answer()
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, mirrored("/", "primary", mirrorTo("shadow", 0)))),
		map[string]*httptest.Server{"primary": primary, "shadow": shadow.srv}))
	for range 50 {
		e.post("", "/", strings.NewReader("x"))
	}
	// Mirrors are drawn before the primary is called: none can be pending.
	if s := e.dp.Status().Mirrors; s != (MirrorStats{}) {
		t.Errorf("mirror stats %+v, want none", s)
	}
	select {
	case got := <-shadow.got:
		t.Errorf("the mirror received %+v", got)
	default:
	}
}

func TestMirrorDropsBodiesOverTheBufferLimit(t *testing.T) {
	e := newEnv(t)
	primary, shadow := backend(t, "primary"), newSink(t, http.StatusOK)
	shadow.answer()
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, mirrored("/", "primary", mirrorTo("shadow", 100)))),
		map[string]*httptest.Server{"primary": primary, "shadow": shadow.srv}))
	big := bytes.Repeat([]byte("b"), maxRetryBodyBytes+1)
	if got := e.post("", "/", bytes.NewReader(big)); len(got.Body) != len(big) {
		t.Fatalf("the primary got %d bytes, want %d", len(got.Body), len(big))
	}
	if s := e.dp.Status().Mirrors; s.Dropped != 1 || s.Sent != 0 {
		t.Errorf("mirror stats %+v, want one dropped", s)
	}
}

func TestMirrorPolicyFields(t *testing.T) {
	pm := &pathMatcher{kind: pathPrefix, value: "/"}
	compile := func(p *routev3.RouteAction_RequestMirrorPolicy) (*forwardAction, error) {
		return compileForwardAction(&routev3.RouteAction{
			ClusterSpecifier:      &routev3.RouteAction_Cluster{Cluster: "a"},
			RequestMirrorPolicies: []*routev3.RouteAction_RequestMirrorPolicy{p},
		}, pm)
	}
	a, err := compile(&routev3.RouteAction_RequestMirrorPolicy{Cluster: "m", DisableShadowHostSuffixAppend: true, RuntimeFraction: mirrorTo("m", 30).RuntimeFraction})
	if err != nil || len(a.mirrors) != 1 || a.mirrors[0] != (mirrorPolicy{cluster: "m", share: percent{num: 30, den: 100}, keepHost: true}) {
		t.Fatalf("got %+v, %v", a, err)
	}
	for want, p := range map[string]*routev3.RouteAction_RequestMirrorPolicy{
		"cluster_header":       {ClusterHeader: "x-mirror"},
		"trace_sampled":        {Cluster: "m", TraceSampled: wrapperspb.Bool(true)},
		"host_rewrite_literal": {Cluster: "m", HostRewriteLiteral: "m.internal"},
		"cluster is required":  {},
	} {
		if _, err := compile(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want a NACK naming it", want, err)
		}
	}
	// A mirror cluster is one the route table sends to: it stays routable
	// while CDS removes it ahead of RDS.
	rt, err := compileRouteConfig(routeConfig("rc", vhost("all", []string{"*"}, mirrored("/", "a", mirrorTo("m", 100)))), nil)
	if err != nil || strings.Join(rt.clusters, ",") != "a,m" {
		t.Errorf("route table clusters %v, %v", rt.clusters, err)
	}
}

func TestShadowHost(t *testing.T) {
	for in, want := range map[string]string{
		"example.com": "example.com-shadow", "example.com:8080": "example.com-shadow:8080",
		"[::1]": "[::1]-shadow", "[::1]:80": "[::1]-shadow:80", "10.0.0.1:80": "10.0.0.1-shadow:80",
	} {
		if got := shadowHost(in); got != want {
			t.Errorf("shadowHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMirrorerBoundsInFlight(t *testing.T) {
	m := newMirrorer(testGuard(), 2)
	if !m.acquire() || !m.acquire() {
		t.Fatal("slots under the limit refused")
	}
	if m.acquire() {
		t.Fatal("a third mirror started over a limit of 2")
	}
	m.release()
	if !m.acquire() {
		t.Fatal("a released slot was not reusable")
	}
	m.release()
	m.release()
	m.close()
	if m.acquire() {
		t.Fatal("a mirror started after close")
	}
}
