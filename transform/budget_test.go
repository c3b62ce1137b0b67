package transform

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestAbandonedRenderStops: a render past its deadline used to run on
// (4 CPU-seconds for a 6 KB body); now it ends at its next loop iteration.
func TestAbandonedRenderStops(t *testing.T) {
	e := NewEngine(Options{RenderTimeout: 30 * time.Millisecond, MaxLoopIterations: 1 << 40})
	body := []byte(`{"x": "` + strings.Repeat("a", 200_000) + `"}`)
	c := compile(t, e, &Template{Body: str(`{% for a in x %}{% for b in x %}{% endfor %}{% endfor %}`)})
	if _, _, err := c.Apply(Input{Headers: mapHeaders{}, Body: body}); err == nil || !strings.Contains(err.Error(), "render exceeded") {
		t.Fatalf("got %v", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for e.overdue.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned render is still running 2s after its deadline")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRenderBudgets(t *testing.T) {
	body := []byte(`{"x": "` + strings.Repeat("a", 200_000) + `", "tags": ["a", "b"]}`)
	cases := map[string]struct{ tpl, want string }{
		"iterations":        {`{% for a in x %}{% for b in x %}{% endfor %}{% endfor %}`, "more than 100000 iterations"},
		"replace":           {`{{ replace(body(), "", body()) }}`, "exceed 16777216 bytes"},
		"set in a loop":     {`{% for a in x %}{% set y = y + body() %}{% endfor %}`, "exceed 16777216 bytes"},
		"join":              {`{{ join(x, body()) }}`, "exceed 16777216 bytes"},
		"base64 in a loop":  {`{% for a in x %}{{ base64_encode(body())|length }}{% endfor %}`, "exceed 16777216 bytes"},
		"substring in loop": {`{% for a in x %}{{ substring(body(), 1, 1) }}{% endfor %}`, "exceed 16777216 bytes"},
	}
	e := NewEngine(Options{RenderTimeout: 10 * time.Second})
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tr := compile(t, e, &Template{Body: str(c.tpl)})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, _, err := tr.Apply(Input{Headers: mapHeaders{}, Body: body})
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<20 {
				t.Errorf("the render allocated %d MiB before it was stopped", grown>>20)
			}
		})
	}
}

func TestBoundedTagsKeepPongo2Semantics(t *testing.T) {
	e := NewEngine(Options{})
	cases := map[string]string{
		`{% for t in tags reversed %}{{ forloop.Counter }}{{ t }}{% if forloop.Last %}.{% endif %}{% endfor %}`:             "1c2b3a.",
		`{% for t in none %}x{% empty %}none{% endfor %}`:                                                                   "none",
		`{% for k, v in obj sorted %}{{ k }}={{ v }};{% endfor %}`:                                                          "a=1;b=2;",
		`{% for t in tags %}{% for u in tags %}{% if forloop.Parentloop.First %}{{ u }}{% endif %}{% endfor %}{% endfor %}`: "abc",
		`{% set n = "x" + "y" %}{{ n }}`:                                                                                    "xy",
		`{{ join(tags, ", ") }}`:                                                                                            "a, b, c",
		`{{ gluon_render_budget }}|`:                                                                                        "|",
		`{{ replace("aXbX", "X", "--") }}`:                                                                                  "a--b--",
	}
	for src, want := range cases {
		tr := compile(t, e, &Template{Body: str(src)})
		out, _, err := tr.Apply(Input{Headers: mapHeaders{}, Body: []byte(`{"tags": ["a", "b", "c"], "obj": {"b": "2", "a": "1"}}`)})
		if err != nil || string(out) != want {
			t.Errorf("%s: got %q %v, want %q", src, out, err, want)
		}
	}
}

func TestReplacedLen(t *testing.T) {
	for _, c := range [][3]string{{"abc", "", "--"}, {"aXbX", "X", "--"}, {"héé", "é", ""}, {"", "", "x"}, {"aaa", "aa", "b"}} {
		if got, want := replacedLen(c[0], c[1], c[2]), len(strings.ReplaceAll(c[0], c[1], c[2])); got != want {
			t.Errorf("%q: %d, want %d", c, got, want)
		}
	}
}
