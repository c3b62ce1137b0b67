package dataplane

import (
	"context"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestRewrites(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	prefixRW := withAction(prefixRoute("/api/", "b"), func(a *routev3.RouteAction) { a.PrefixRewrite = "/v2/" })
	regexRW := withAction(prefixRoute("/users/", "b"), func(a *routev3.RouteAction) {
		a.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{
			Pattern:      &matcherv3.RegexMatcher{Regex: `^/users/([^/]+)/profile$`},
			Substitution: `/profiles/\1`,
		}
	})
	hostRW := withAction(prefixRoute("/host", "b"), func(a *routev3.RouteAction) {
		a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: "upstream.internal"}
	})
	autoHost := withAction(prefixRoute("/auto", "dns"), func(a *routev3.RouteAction) {
		a.HostRewriteSpecifier = &routev3.RouteAction_AutoHostRewrite{AutoHostRewrite: wrapperspb.Bool(true)}
	})
	r := e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRW, regexRW, hostRW, autoHost, prefixRoute("/", "b"))),
		map[string]*httptest.Server{"b": b})
	_, port, _ := net.SplitHostPort(hostPort(b))
	r.clusters = append(r.clusters, strictDNSCluster("dns", "localhost", atoi(t, port)))
	e.push(r)

	cases := []struct{ path, wantURI, wantHost string }{
		{"/api/items?x=1", "/v2/items?x=1", "client.example"},
		{"/users/ann/profile?y=2", "/profiles/ann?y=2", "client.example"},
		{"/users/ann/other", "/users/ann/other", "client.example"},
		{"/host/a", "/host/a", "upstream.internal"},
		{"/auto", "/auto", "localhost"},
		{"/keep%2Fescaped", "/keep%2Fescaped", "client.example"},
	}
	for _, c := range cases {
		s, _ := e.call("GET", "client.example", c.path, nil, 200)
		if s.URI != c.wantURI || s.Host != c.wantHost {
			t.Errorf("%s: upstream saw %s (host %s), want %s (host %s)", c.path, s.URI, s.Host, c.wantURI, c.wantHost)
		}
	}
}

func TestWeightedSplit(t *testing.T) {
	e := newEnv(t)
	a, b := backend(t, "a"), backend(t, "b")
	split := &routev3.Route{
		Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: weighted("a", 80, "b", 20)}},
	}
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, split)), map[string]*httptest.Server{"a": a, "b": b}))
	const n = 2000
	hits := map[string]int{}
	for range n {
		resp := e.do("GET", "", "/", nil, nil)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		hits[resp.Header.Get("X-Backend")]++
	}
	share := float64(hits["a"]) / n
	if math.Abs(share-0.8) > 0.05 || hits["a"]+hits["b"] != n {
		t.Fatalf("split %v, want 80/20 within ±5%%", hits)
	}
}

func TestRetry(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.WriteHeader(500)
			return
		}
		_, _ = w.Write(body) // echo: proves the body was replayed
	}))
	t.Cleanup(flaky.Close)
	rt := withAction(prefixRoute("/", "flaky"), func(a *routev3.RouteAction) {
		a.RetryPolicy = &routev3.RetryPolicy{RetryOn: "5xx", NumRetries: wrapperspb.UInt32(2)}
	})
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, rt)), map[string]*httptest.Server{"flaky": flaky}))
	resp := e.do("POST", "", "/", nil, strings.NewReader("payload"))
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "payload" || calls.Load() != 2 {
		t.Fatalf("status %d body %q after %d calls, want 200 \"payload\" after 2", resp.StatusCode, body, calls.Load())
	}
}

func TestPerTryTimeoutRetries(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	slowOnce := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(slowOnce.Close)
	rt := withAction(prefixRoute("/", "s"), func(a *routev3.RouteAction) {
		a.RetryPolicy = &routev3.RetryPolicy{RetryOn: "gateway-error", PerTryTimeout: durationpb.New(100 * time.Millisecond)}
	})
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, rt)), map[string]*httptest.Server{"s": slowOnce}))
	s, _ := e.call("GET", "", "/", nil, 200)
	if s.Body != "ok" {
		t.Fatalf("body %q", s.Body)
	}
}

func TestTimeout(t *testing.T) {
	e := newEnv(t)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	rt := withAction(prefixRoute("/", "slow"), func(a *routev3.RouteAction) { a.Timeout = durationpb.New(200 * time.Millisecond) })
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, rt)), map[string]*httptest.Server{"slow": slow}))
	start := time.Now()
	s, _ := e.call("GET", "", "/", nil, http.StatusGatewayTimeout)
	if s.Body != "upstream request timeout" || time.Since(start) > 3*time.Second {
		t.Fatalf("body %q after %v", s.Body, time.Since(start))
	}
}

func TestRedirectAndDirectResponse(t *testing.T) {
	e := newEnv(t)
	redirect := func(prefix string, ra *routev3.RedirectAction) *routev3.Route {
		return &routev3.Route{
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
			Action: &routev3.Route_Redirect{Redirect: ra},
		}
	}
	direct := &routev3.Route{
		Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/health"}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
			Status: 418, Body: &core.DataSource{Specifier: &core.DataSource_InlineString{InlineString: "teapot"}},
		}},
		ResponseHeadersToAdd: []*core.HeaderValueOption{headerOption("x-direct", "yes", core.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)},
	}
	rc := routeConfig("rc", vhost("all", []string{"*"},
		direct,
		redirect("/secure", &routev3.RedirectAction{SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true}}),
		redirect("/old/", &routev3.RedirectAction{
			PathRewriteSpecifier: &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: "/new/"},
			ResponseCode:         routev3.RedirectAction_FOUND,
		}),
		redirect("/moved", &routev3.RedirectAction{
			HostRedirect:         "other.example",
			PortRedirect:         8443,
			PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/landing"},
			StripQuery:           true,
			ResponseCode:         routev3.RedirectAction_PERMANENT_REDIRECT,
		}),
	))
	e.push(resources{listeners: []types.Resource{httpListener(t, "http", e.port, "rc")}, routes: []types.Resource{rc}})

	cases := []struct {
		host, path string
		code       int
		location   string
	}{
		{"shop.example:80", "/secure/cart?id=1", 301, "https://shop.example/secure/cart?id=1"},
		{"shop.example", "/old/page?q=1", 302, "http://shop.example/new/page?q=1"},
		{"shop.example", "/moved/x?q=1", 308, "http://other.example:8443/landing"},
	}
	for _, c := range cases {
		_, resp := e.call("GET", c.host, c.path, nil, c.code)
		if got := resp.Header.Get("Location"); got != c.location {
			t.Errorf("%s%s: Location %q, want %q", c.host, c.path, got, c.location)
		}
	}
	s, resp := e.call("GET", "", "/health", nil, 418)
	if s.Body != "teapot" || resp.Header.Get("X-Direct") != "yes" {
		t.Errorf("direct response: body %q, x-direct %q", s.Body, resp.Header.Get("X-Direct"))
	}
}

func TestHeaderMutation(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	rt := prefixRoute("/", "b")
	rt.RequestHeadersToAdd = []*core.HeaderValueOption{
		headerOption("x-level", "route", core.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD),
		headerOption("x-client", "overwritten", core.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
		headerOption("x-absent", "added", core.HeaderValueOption_ADD_IF_ABSENT),
		headerOption("x-only-if", "nope", core.HeaderValueOption_OVERWRITE_IF_EXISTS),
		headerOption("x-percent", "100%%", core.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD),
	}
	rt.RequestHeadersToRemove = []string{"x-secret"}
	rt.ResponseHeadersToAdd = []*core.HeaderValueOption{headerOption("x-resp", "route", core.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)}
	rt.ResponseHeadersToRemove = []string{"x-backend"}
	vh := vhost("all", []string{"*"}, rt)
	vh.RequestHeadersToAdd = []*core.HeaderValueOption{headerOption("x-level", "vhost", core.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)}
	rc := routeConfig("rc", vh)
	rc.RequestHeadersToAdd = []*core.HeaderValueOption{headerOption("x-level", "global", core.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD)}
	rc.ResponseHeadersToAdd = []*core.HeaderValueOption{headerOption("x-resp", "global", core.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD)}
	e.push(e.basic(rc, map[string]*httptest.Server{"b": b}))

	s, resp := e.call("GET", "", "/", http.Header{
		"X-Client": {"original"}, "X-Secret": {"s3cr3t"}, "Connection": {"X-Hop"}, "X-Hop": {"1"},
		"X-Forwarded-For": {"203.0.113.7"},
	}, 200)
	h := s.Header
	checks := map[string]string{
		"X-Level":           "global", // route, then vhost, then route config (which overwrites)
		"X-Client":          "overwritten",
		"X-Absent":          "added",
		"X-Only-If":         "",
		"X-Percent":         "100%",
		"X-Secret":          "",
		"X-Hop":             "",
		"X-Forwarded-For":   "203.0.113.7, 127.0.0.1",
		"X-Forwarded-Proto": "http",
	}
	for k, want := range checks {
		if got := strings.Join(h[k], ","); got != want {
			t.Errorf("upstream %s = %q, want %q", k, got, want)
		}
	}
	if len(h.Get("X-Request-Id")) != 36 {
		t.Errorf("x-request-id %q", h.Get("X-Request-Id"))
	}
	if got := strings.Join(resp.Header.Values("X-Resp"), ","); got != "route,global" {
		t.Errorf("response x-resp %q, want route,global", got)
	}
	if resp.Header.Get("X-Backend") != "" {
		t.Errorf("x-backend not removed from response")
	}
}

func TestH2C(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "b"))), map[string]*httptest.Server{"b": b}))
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &protocols}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://127.0.0.1:" + itoa(e.port) + "/h2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || resp.Header.Get("X-Backend") != "b" {
		t.Fatalf("proto %s status %d backend %q", resp.Proto, resp.StatusCode, resp.Header.Get("X-Backend"))
	}
}

func TestUpstreamHTTP2AndTLS(t *testing.T) {
	e := newEnv(t)
	h2 := httptest.NewUnstartedServer(echoHandler("h2"))
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	h2.Config.Protocols = &protocols
	h2.Start()
	t.Cleanup(h2.Close)
	tlsSrv := httptest.NewTLSServer(echoHandler("tls"))
	t.Cleanup(tlsSrv.Close)

	rc := routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/h2", "h2"), prefixRoute("/tls", "tls")))
	r := resources{
		listeners: []types.Resource{httpListener(t, "http", e.port, "rc")},
		routes:    []types.Resource{rc},
		clusters: []types.Resource{
			withHTTP2(t, edsCluster("h2")),
			withTLS(t, edsCluster("tls"), "example.com", tlsSrv.Certificate()),
		},
		endpoints: []types.Resource{cla("h2", hostPort(h2)), cla("tls", hostPort(tlsSrv))},
	}
	e.push(r)
	if s, _ := e.call("GET", "", "/h2", nil, 200); s.Proto != "HTTP/2.0" {
		t.Errorf("upstream saw %s, want HTTP/2.0", s.Proto)
	}
	if s, _ := e.call("GET", "", "/tls", nil, 200); s.Backend != "tls" {
		t.Errorf("tls backend not reached: %+v", s)
	}
}

func TestUpstreamFailures(t *testing.T) {
	e := newEnv(t)
	rc := routeConfig("rc", vhost("all", []string{"*"},
		prefixRoute("/dead", "dead"), prefixRoute("/empty", "empty"), prefixRoute("/missing", "missing")))
	e.push(resources{
		listeners: []types.Resource{httpListener(t, "http", e.port, "rc")},
		routes:    []types.Resource{rc},
		clusters:  []types.Resource{edsCluster("dead"), edsCluster("empty")},
		endpoints: []types.Resource{cla("dead", refusingAddr(t)), cla("empty")},
	})
	if s, _ := e.call("GET", "", "/dead", nil, 503); s.Body != msgConnectFailure {
		t.Errorf("dead: %q", s.Body)
	}
	if s, _ := e.call("GET", "", "/empty", nil, 503); s.Body != msgNoHealthyUpstream {
		t.Errorf("empty: %q", s.Body)
	}
	e.call("GET", "", "/missing", nil, 503)
}

// TestStreaming checks that chunks of a response of unknown length reach the
// client before the upstream finishes.
func TestStreaming(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	stream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "second\n")
	}))
	t.Cleanup(stream.Close)
	defer close(release)
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "s"))), map[string]*httptest.Server{"s": stream}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:"+itoa(e.port)+"/", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("first chunk %q, %v", buf, err)
	}
}
