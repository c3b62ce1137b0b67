package api

import (
	"strings"
	"testing"
)

func TestShadowingValidation(t *testing.T) {
	pct := func(p uint32) *uint32 { return &p }
	cases := []struct {
		name string
		s    Shadowing
		want string // "" = valid
	}{
		{"upstream only", Shadowing{Upstream: ResourceRef{Name: "v2"}}, ""},
		{"zero percent", Shadowing{Upstream: ResourceRef{Name: "v2"}, Percentage: pct(0)}, ""},
		{"full percent", Shadowing{Upstream: ResourceRef{Name: "v2", Namespace: "other"}, Percentage: pct(100)}, ""},
		{"over 100", Shadowing{Upstream: ResourceRef{Name: "v2"}, Percentage: pct(101)}, "options.shadowing.percentage: must be between 0 and 100"},
		{"no upstream name", Shadowing{Upstream: ResourceRef{Namespace: "other"}}, "options.shadowing.upstream.name: is required"},
	}
	for _, c := range cases {
		s := c.s
		vs := &VirtualService{Spec: VirtualServiceSpec{VirtualHost: VirtualHost{Routes: []Route{{
			RouteAction: &RouteAction{Single: &Destination{Upstream: &ResourceRef{Name: "v1"}}},
			Options:     &RouteOptions{Shadowing: &s},
		}}}}}
		vs.Name, vs.Namespace = "vs", DefaultNamespace
		err := vs.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), "spec.virtualHost.routes[0]."+c.want)):
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
