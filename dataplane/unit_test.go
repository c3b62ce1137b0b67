package dataplane

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

func TestVhostIndex(t *testing.T) {
	vhs := map[string]*virtualHost{}
	var x vhostIndex
	for name, domains := range map[string][]string{
		"exact":   {"www.foo.com"},
		"short":   {"*.com"},
		"long":    {"*.foo.com"},
		"dash":    {"*-bar.foo.com"},
		"pfx":     {"foo.*"},
		"pfxlong": {"foo.bar.*"},
		"any":     {"*"},
	} {
		vhs[name] = &virtualHost{name: name}
		for _, d := range domains {
			if err := x.add(d, vhs[name]); err != nil {
				t.Fatal(err)
			}
		}
	}
	for host, want := range map[string]string{
		"www.foo.com":     "exact",
		"WWW.Foo.com":     "exact",
		"api.foo.com":     "long",
		"x-bar.foo.com":   "dash",
		"other.com":       "short",
		"foo.com":         "short", // "*.foo.com" needs at least one character before ".foo.com"
		"foo.org":         "pfx",
		"foo.bar.baz":     "pfxlong",
		"example.net":     "any",
		"www.foo.com:443": "any", // ports are only stripped when configured
	} {
		if got := x.find(host); got.name != want {
			t.Errorf("%s: got %s, want %s", host, got.name, want)
		}
	}
	if err := x.add("WWW.foo.com", &virtualHost{name: "dup"}); err == nil {
		t.Error("duplicate domain accepted")
	}
	for _, bad := range []string{"a*b.com", "*.*.com", ""} {
		if err := x.add(bad, &virtualHost{name: "bad"}); err == nil {
			t.Errorf("domain %q accepted", bad)
		}
	}
}

func TestStripPort(t *testing.T) {
	for in, want := range map[string]string{
		"foo.com:80": "foo.com", "foo.com": "foo.com", "[::1]:8080": "[::1]", "[::1]": "[::1]", "::1": "::1",
	} {
		if got := stripPort(in); got != want {
			t.Errorf("stripPort(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSmoothSchedule(t *testing.T) {
	got := smoothSchedule([]uint32{5, 1, 1})
	want := []uint32{0, 0, 1, 0, 2, 0, 0} // nginx's canonical a a b a c a a
	if !slices.Equal(got, want) {
		t.Errorf("schedule %v, want %v", got, want)
	}
	big := smoothSchedule([]uint32{1_000_000, 1, 3})
	if len(big) > maxSchedule+3 || !slices.Contains(big, 1) || !slices.Contains(big, 2) {
		t.Errorf("scaled schedule of length %d lost endpoints", len(big))
	}
	lb := lbConfig{policy: clusterv3.Cluster_ROUND_ROBIN}
	b := lb.build([]*host{{endpoint: endpoint{addr: "a", weight: 3}}, {endpoint: endpoint{addr: "b", weight: 1}}})
	counts := map[string]int{}
	for range 400 {
		counts[b.pick(0, false).addr]++
	}
	if counts["a"] != 300 || counts["b"] != 100 {
		t.Errorf("picks %v, want 300/100", counts)
	}
	if lb.build(nil) != nil {
		t.Error("no hosts made a balancer")
	}
}

func TestRE2Substitution(t *testing.T) {
	for in, want := range map[string]string{
		`/v\1/\2`: `/v${1}/${2}`,
		`$1\\x`:   `$$1\x`,
		`plain`:   `plain`,
	} {
		if got := re2Substitution(in); got != want {
			t.Errorf("re2Substitution(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedirectLocation(t *testing.T) {
	prefix := &pathMatcher{kind: pathPrefix, value: "/old", caseSensitive: true}
	cases := []struct {
		name string
		ra   *routev3.RedirectAction
		host string
		path string
		want string
	}{
		{"https drops :80", &routev3.RedirectAction{SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true}},
			"a.com:80", "/old/x?q", "https://a.com/old/x?q"},
		{"https keeps other ports", &routev3.RedirectAction{SchemeRewriteSpecifier: &routev3.RedirectAction_HttpsRedirect{HttpsRedirect: true}},
			"a.com:8080", "/old", "https://a.com:8080/old"},
		{"port redirect", &routev3.RedirectAction{PortRedirect: 9000}, "a.com:8080", "/old", "http://a.com:9000/old"},
		{"path redirect keeps query", &routev3.RedirectAction{PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/new"}},
			"a.com", "/old?x=1", "http://a.com/new?x=1"},
		{"path redirect with query replaces it", &routev3.RedirectAction{PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/new?y=2"}, StripQuery: true},
			"a.com", "/old?x=1", "http://a.com/new?y=2"},
		{"prefix rewrite and strip query", &routev3.RedirectAction{PathRewriteSpecifier: &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: "/fresh"}, StripQuery: true},
			"a.com", "/old/page?x=1", "http://a.com/fresh/page"},
		{"host redirect", &routev3.RedirectAction{HostRedirect: "b.com"}, "a.com:8080", "/old", "http://b.com/old"},
	}
	for _, c := range cases {
		ra, err := compileRedirect(c.ra, prefix)
		if err != nil {
			t.Fatal(err)
		}
		path, _, _ := strings.Cut(c.path, "?")
		if got := ra.location(c.host, c.path, path, prefix); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := &retryPolicy{base: 25 * time.Millisecond, max: 250 * time.Millisecond}
	for n := 1; n <= 40; n++ {
		for range 50 {
			d := p.backoff(n)
			limit := min(time.Duration(1<<min(n, 20)-1)*p.base, p.max)
			if d < 0 || d > limit {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", n, d, limit)
			}
		}
	}
}

func TestHeaderMutationCompile(t *testing.T) {
	if _, err := compileHeaderMutation([]*core.HeaderValueOption{headerOption("x-a", "%DOWNSTREAM_REMOTE_ADDRESS%", 0)}, nil); err == nil {
		t.Error("substitution formatter accepted")
	}
	if _, err := compileHeaderMutation(nil, []string{":path"}); err == nil {
		t.Error("pseudo-header removal accepted")
	}
	m, err := compileHeaderMutation([]*core.HeaderValueOption{headerOption("x-empty", "", 0)}, nil)
	if err != nil || len(m.add) != 0 {
		t.Errorf("empty value should be dropped: %+v, %v", m, err)
	}
	h := http.Header{"X-A": {"1"}}
	(&headerMutation{add: []headerOp{{key: "X-A", value: "2", action: addIfAbsent}, {key: "X-B", value: "3", action: overwriteIfExists}}}).apply(h)
	if h.Get("X-A") != "1" || h.Get("X-B") != "" {
		t.Errorf("header mutation result %v", h)
	}
}
