package gateway

import (
	"strings"
	"testing"

	"github.com/gluon-gateway/gluon/api"
)

func TestShadowWarnings(t *testing.T) {
	f := false
	r := func(m api.Matcher) api.Route { return api.Route{Matchers: []api.Matcher{m}} }
	cases := []struct {
		name   string
		routes []api.Route
		want   []string // "later<-earlier"
	}{
		{"prefix covers longer prefix and exact", []api.Route{r(api.Matcher{Prefix: "/a"}), r(api.Matcher{Prefix: "/a/b"}), r(api.Matcher{Exact: "/ab"})}, []string{"1<-0", "2<-0"}},
		{"more specific first is fine", []api.Route{r(api.Matcher{Prefix: "/a/b"}), r(api.Matcher{Prefix: "/a"})}, nil},
		{"case-insensitive covers any case", []api.Route{r(api.Matcher{Prefix: "/API", CaseSensitive: &f}), r(api.Matcher{Prefix: "/api/v1"})}, []string{"1<-0"}},
		{"case-sensitive does not cover another case", []api.Route{r(api.Matcher{Prefix: "/API"}), r(api.Matcher{Prefix: "/api/v1"})}, nil},
		{"conditions must be a subset", []api.Route{r(api.Matcher{Prefix: "/", Headers: []api.HeaderMatcher{{Name: "x"}}}), r(api.Matcher{Prefix: "/a"}), r(api.Matcher{Prefix: "/b", Headers: []api.HeaderMatcher{{Name: "x"}}})}, []string{"2<-0"}},
		{"of matchers on one path, the first that covers is named", []api.Route{r(api.Matcher{Prefix: "/a", Headers: []api.HeaderMatcher{{Name: "x"}}}), r(api.Matcher{Prefix: "/a"}), r(api.Matcher{Prefix: "/a", Methods: []string{"GET"}}), r(api.Matcher{Prefix: "/a/b"})}, []string{"2<-1", "3<-1"}},
		{"methods", []api.Route{r(api.Matcher{Prefix: "/", Methods: []string{"GET", "POST"}}), r(api.Matcher{Prefix: "/a", Methods: []string{"GET"}}), r(api.Matcher{Prefix: "/a"})}, []string{"1<-0"}},
		{"exact only covers the same exact", []api.Route{r(api.Matcher{Exact: "/a"}), r(api.Matcher{Prefix: "/a"}), r(api.Matcher{Exact: "/a"})}, []string{"2<-0"}},
		{"regexes are not compared; the first covering route is named", []api.Route{r(api.Matcher{Regex: "/.*"}), r(api.Matcher{Prefix: "/x/y"}), r(api.Matcher{Prefix: "/x"}), {}, r(api.Matcher{Prefix: "/x/y/z"}), {}}, []string{"4<-1", "5<-3"}},
	}
	for _, c := range cases {
		got := ShadowWarnings(c.routes)
		if len(got) != len(c.want) {
			t.Errorf("%s: got %q, want %v", c.name, got, c.want)
			continue
		}
		for i, w := range c.want {
			later, earlier, _ := strings.Cut(w, "<-")
			if got[i].Code != api.RouteShadowed || got[i].Path != "spec.virtualHost.routes["+later+"]" || got[i].Related != "spec.virtualHost.routes["+earlier+"]" {
				t.Errorf("%s: warning %d is %q, want route %s shadowed by %s", c.name, i, got[i], later, earlier)
			}
		}
	}
}
