package transform

import (
	"errors"
	"strings"
	"testing"
)

// nestings are hostile templates by nesting depth, up to the million
// parentheses (2 MB) that used to overflow the stack and their 10× cousin.
var nestings = []int{1, 8, 64, 65, 1000, 100_000, 1_000_000, 10_000_000}

func TestNestingIsBoundedBeforeParsing(t *testing.T) {
	shapes := map[string]func(n int) string{
		"parentheses": func(n int) string { return "{{ " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n) + " }}" },
		"brackets":    func(n int) string { return "{{ " + strings.Repeat("[", n) + "1" + strings.Repeat("]", n) + " }}" },
		"if tags":     func(n int) string { return strings.Repeat("{% if 1 %}", n) + "x" + strings.Repeat("{% endif %}", n) },
		"unclosed":    func(n int) string { return "{{ " + strings.Repeat("(", n) },
	}
	e := NewEngine(Options{})
	for name, shape := range shapes {
		for _, n := range nestings {
			src := shape(n)
			_, err := e.compileText("body", src)
			var ce *CompileError
			switch {
			case n <= 8 && (name == "parentheses" || name == "if tags") && err != nil:
				t.Errorf("%s %d: %v", name, n, err)
			case n > 64 && !errors.As(err, &ce):
				t.Errorf("%s %d (%d bytes): want a compile error, got %v", name, n, len(src), err)
			case n > 64 && !strings.Contains(ce.Reason, "allowed"):
				t.Errorf("%s %d: reason %q does not say the bound", name, n, ce.Reason)
			}
		}
	}
}

func FuzzNestingDepth(f *testing.F) {
	f.Add(uint32(3), byte('('), "1")
	f.Add(uint32(100), byte('['), "x|upper")
	f.Fuzz(func(t *testing.T, n uint32, open byte, inner string) {
		n %= 200_000
		closing := map[byte]string{'(': ")", '[': "]", '{': "}"}[open]
		src := "{{ " + strings.Repeat(string(open), int(n)) + inner + strings.Repeat(closing, int(n)) + " }}"
		_, _ = NewEngine(Options{}).compileText("body", src) // must return, not crash
	})
}
