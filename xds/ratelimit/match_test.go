package ratelimit

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	cfg := Config{Domain: "d", Descriptors: []Descriptor{
		{Key: "k", Value: "exact", RateLimit: perMinute(1)},
		{Key: "k", RateLimit: perMinute(2)},                // any other value of k
		{Key: "k", Value: "pre*", RateLimit: perMinute(3)}, // glob beats key-only
		{Key: "k", Value: "a*b*c", RateLimit: perMinute(4)},
		{Key: "parent", Value: "p", RateLimit: perMinute(5), Descriptors: []Descriptor{
			{Key: "child", RateLimit: perMinute(6)},
			{Key: "child", Value: "c", Descriptors: []Descriptor{
				{Key: "leaf", Value: "l", RateLimit: perMinute(7)},
			}},
		}},
		{Key: "nolimit", Descriptors: []Descriptor{{Key: "x", Value: "y", RateLimit: perMinute(8)}}},
	}}
	root, err := compileDomain(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		kv   []string
		want uint32 // 0: no limit
	}{
		{"exact value", []string{"k", "exact"}, 1},
		{"wildcard value", []string{"k", "other"}, 2},
		{"empty value hits wildcard", []string{"k", ""}, 2},
		{"glob prefix", []string{"k", "prefix"}, 3},
		{"glob middle", []string{"k", "aXbYc"}, 4},
		{"glob needs order", []string{"k", "acb"}, 2},
		{"unknown key", []string{"nope", "v"}, 0},
		{"shallow node", []string{"parent", "p"}, 5},
		{"nested wildcard", []string{"parent", "p", "child", "zz"}, 6},
		{"nested exact beats wildcard, no limit there", []string{"parent", "p", "child", "c"}, 0},
		{"deepest", []string{"parent", "p", "child", "c", "leaf", "l"}, 7},
		// The reference applies a limit only to the node of the LAST entry:
		// a descriptor longer than the tree, or whose extra entry does not
		// match, gets nothing from the shallower node's limit.
		{"longer than tree", []string{"k", "exact", "extra", "e"}, 0},
		{"unmatched deeper entry", []string{"parent", "p", "other", "o"}, 0},
		{"wrong parent value", []string{"parent", "q", "child", "c"}, 0},
		{"node without limit", []string{"nolimit", "v"}, 0},
		{"below node without limit", []string{"nolimit", "v", "x", "y"}, 8},
		{"entry order matters", []string{"x", "y", "nolimit", "v"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := root.lookup(desc(tc.kv...).Entries)
			var got uint32
			if l != nil {
				got = l.proto.RequestsPerUnit
			}
			if got != tc.want {
				t.Errorf("lookup(%v) = %d, want %d", tc.kv, got, tc.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, value string
		want           bool
	}{
		{"a*", "a", true},
		{"a*", "abc", true},
		{"a*", "ba", false},
		{"*c", "abc", true},
		{"a*c", "ac", true},
		{"a*c", "abcc", true},
		{"ab*bc", "abc", false}, // prefix and suffix may not overlap
		{"a*b*c", "abbc", true},
		{"a*b*c", "acbc", true},
		{"a*b*c", "acc", false},
		{"*", "", true},
	} {
		if got := globMatch(splitStar(tc.pattern), tc.value); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}

func splitStar(s string) []string { return strings.Split(s, "*") }
