package api

import (
	"strings"
	"testing"
)

// TestDecodeNestingIsBounded drives YAML and JSON nesting depth, and regex
// nesting, up to a million levels: each is refused with a reason, never a
// crash.
func TestDecodeNestingIsBounded(t *testing.T) {
	head := "apiVersion: gluon.dev/v1\nkind: Upstream\nmetadata: {name: a}\nspec: "
	shapes := map[string]func(n int) string{
		"flow sequences": func(n int) string { return head + strings.Repeat("[", n) + strings.Repeat("]", n) },
		"flow mappings":  func(n int) string { return head + strings.Repeat("{a: ", n) + "1" + strings.Repeat("}", n) },
		"json": func(n int) string {
			return `{"apiVersion":"gluon.dev/v1","kind":"Upstream","metadata":{"name":"a"},"spec":` + strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) + "}"
		},
		"block mappings": func(n int) string {
			var b strings.Builder
			b.WriteString(head + "\n")
			for i := range min(n, 3_000) {
				b.WriteString(strings.Repeat(" ", i+1) + "a:\n")
			}
			return b.String()
		},
	}
	for name, shape := range shapes {
		for _, n := range []int{100, 10_000, 100_000, 1_000_000} {
			docs := DecodeAll([]byte(shape(n)))
			if len(docs) != 1 || docs[0].Err == nil {
				t.Errorf("%s %d: want one rejected document, got %+v", name, n, docs)
			}
		}
	}
	for _, n := range []int{10, 1000, 100_000} {
		var f fieldErrors
		validateRegex(&f, "regex", strings.Repeat("(", n)+"a"+strings.Repeat(")", n))
		if n > 1000 && f.err() == nil {
			t.Errorf("a regex nested %d deep was accepted", n)
		}
	}
}
