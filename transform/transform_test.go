package transform

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// mapHeaders is a fake header map with pseudo-headers as plain keys.
type mapHeaders map[string][]string

func (m mapHeaders) Get(k string) (string, bool) {
	v, ok := m[strings.ToLower(k)]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}
func (m mapHeaders) Set(k, v string) { m[strings.ToLower(k)] = []string{v} }
func (m mapHeaders) Add(k, v string) { m[strings.ToLower(k)] = append(m[strings.ToLower(k)], v) }
func (m mapHeaders) Del(k string)    { delete(m, strings.ToLower(k)) }

func str(s string) *string { return &s }

func compile(t *testing.T, e *Engine, tpl *Template) *Compiled {
	t.Helper()
	tr, err := e.Compile(&Spec{Request: tpl})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Request
}

func TestPathFromHeaderAndExtraction(t *testing.T) {
	c := compile(t, NewEngine(Options{}), &Template{
		Extractors: map[string]Extractor{"id": {Regex: `^/pets/(\d+)`, Subgroup: 1}},
		Headers: map[string]string{
			":path":   `/api/pets/{{ extraction("id") }}?by={{ header("x-user") }}`,
			":method": "GET",
			"x-empty": `{{ header("absent") }}`,
		},
		HeadersToAppend: []HeaderValue{{Key: "x-tag", Value: "gluon"}},
		HeadersToRemove: []string{"X-Secret"},
	})
	if c.NeedsBody() {
		t.Error("a lookup-only template should not buffer the body")
	}
	h := mapHeaders{":path": {"/pets/42/x"}, ":method": {"POST"}, "x-user": {"ann"}, "x-secret": {"s"}, "x-empty": {"old"}, "x-tag": {"a"}}
	if _, changed, err := c.Apply(Input{Headers: h}); err != nil || changed {
		t.Fatal(err, changed)
	}
	want := mapHeaders{":path": {"/api/pets/42?by=ann"}, ":method": {"GET"}, "x-user": {"ann"}, "x-tag": {"a", "gluon"}}
	if !equal(h, want) {
		t.Fatalf("got %v, want %v", h, want)
	}
}

func equal(a, b mapHeaders) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, ",") != strings.Join(b[k], ",") {
			return false
		}
	}
	return true
}

func TestBodyTemplateWithJSONFieldsAndFunctions(t *testing.T) {
	e := NewEngine(Options{Env: map[string]string{"REGION": "eu-west-1"}})
	c := compile(t, e, &Template{
		Body: str(`{"name": "{{ raw_string(name) }}", "tags": [{% for t in tags %}"{{ t|upper }}"{% if not forloop.Last %},{% endif %}{% endfor %}], ` +
			`"b64": "{{ base64_encode(header("x-a")) }}", "sub": "{{ substring("abcdef", 1, 3) }}", "trim": "{{ trim("  x ") }}", ` +
			`"rep": "{{ replace("a-b-c", "-", "+") }}", "def": "{{ default(missing, "d") }}", "env": "{{ env("REGION") }}{{ env("HOME") }}", ` +
			`"dec": "{{ base64_decode("aGk=") }}", "ctx": "{{ context().name }}"}`),
	})
	h := mapHeaders{"x-a": {"hello"}}
	body, changed, err := c.Apply(Input{Headers: h, Body: []byte(`{"name": "Rex \"the\" dog", "tags": ["a", "b"]}`)})
	if err != nil || !changed {
		t.Fatal(err)
	}
	want := `{"name": "Rex \"the\" dog", "tags": ["A","B"], "b64": "aGVsbG8=", "sub": "bcd", "trim": "x", "rep": "a+b+c", "def": "d", "env": "eu-west-1", "dec": "hi", "ctx": "Rex "the" dog"}`
	if string(body) != want {
		t.Fatalf("got  %s\nwant %s", body, want)
	}
}

func TestNonJSONBodyPassesUnlessStrict(t *testing.T) {
	e := NewEngine(Options{})
	lenient := compile(t, e, &Template{Headers: map[string]string{"x-len": `{{ body()|length }}`}})
	h := mapHeaders{}
	if _, _, err := lenient.Apply(Input{Headers: h, Body: []byte("<xml/>")}); err != nil || h["x-len"][0] != "6" {
		t.Fatalf("lenient: %v %v", err, h)
	}
	strict := compile(t, e, &Template{StrictJSON: true, Headers: map[string]string{"x": "y"}})
	_, _, err := strict.Apply(Input{Headers: mapHeaders{}, Body: []byte("<xml/>")})
	var re *RenderError
	if !errors.As(err, &re) || re.Status != http.StatusBadRequest {
		t.Fatalf("strict: %v", err)
	}
}

func TestExtractorModesAndMerge(t *testing.T) {
	c := compile(t, NewEngine(Options{}), &Template{
		MergeExtractorsToBody: true,
		Extractors: map[string]Extractor{
			"pet.id":   {Header: ":path", Regex: `/pets/(\d+)`, Subgroup: 1},
			"masked":   {Header: "x-card", Regex: `\d{4}$`, Mode: SingleReplace, ReplacementText: "****"},
			"all":      {Header: "x-card", Regex: `\d`, Mode: ReplaceAll, ReplacementText: "#"},
			"fromBody": {Body: true, Regex: `"color":\s*"(\w+)"`, Subgroup: 1},
			"nomatch":  {Header: "x-none", Regex: `(x)`, Subgroup: 1},
			"age":      {Header: "x-age", Regex: `.*`, JSONType: "integer"},
			"ok":       {Header: "x-ok", Regex: `.*`, JSONType: "boolean"},
			"notnum":   {Header: "x-ok", Regex: `.*`, JSONType: "number"},
			"hidden":   {Header: "x-ok", Regex: `.*`, NoMerge: true},
		},
	})
	body, changed, err := c.Apply(Input{Headers: mapHeaders{":path": {"/pets/7"}, "x-card": {"1234-5678"}, "x-age": {"3"}, "x-ok": {"true"}}, Body: []byte(`{"color": "red", "keep": 1}`)})
	if err != nil || !changed {
		t.Fatal(err)
	}
	want := `{"age":3,"all":"####-####","color":"red","fromBody":"red","keep":1,"masked":"1234-****","nomatch":"","notnum":"true","ok":true,"pet":{"id":"7"}}`
	if string(body) != want {
		t.Fatalf("got  %s\nwant %s", body, want)
	}
}

func TestResponseStatusAndRequestHeader(t *testing.T) {
	tr, err := NewEngine(Options{}).Compile(&Spec{Response: &Template{
		Headers: map[string]string{":status": "{% if header(\":status\") == \"404\" %}200{% else %}{{ header(\":status\") }}{% endif %}"},
		Body:    str(`{"found": false, "asked": "{{ request_header("x-id") }}"}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	h := mapHeaders{":status": {"404"}}
	body, _, err := tr.Response.Apply(Input{Headers: h, RequestHeaders: mapHeaders{"x-id": {"9"}}, Body: []byte("not found")})
	if err != nil || h[":status"][0] != "200" || string(body) != `{"found": false, "asked": "9"}` {
		t.Fatalf("%v %v %s", err, h, body)
	}
}

func TestCompileErrors(t *testing.T) {
	cases := map[string]struct {
		tpl  string
		want string
	}{
		"syntax error":  {"ok\n{{ header(\"x\" }}", `request.body: line 2, column`},
		"include":       {`{% include "/etc/passwd" %}`, "sandboxed"},
		"extends":       {`{% extends "base.html" %}`, "sandboxed"},
		"macro":         {`{% macro m() %}{{ m() }}{% endmacro %}`, "sandboxed"},
		"banned filter": {`{{ "x"|ljust:999999999 }}`, "ljust"},
		"deep loops":    {`{% for a in x %}{% for b in x %}{% for c in x %}{% endfor %}{% endfor %}{% endfor %}`, "nested 3 deep"},
		"unclosed":      {`{% if x %}`, "request.body"},
	}
	e := NewEngine(Options{})
	for name, c := range cases {
		_, err := e.Compile(&Spec{Request: &Template{Body: str(c.tpl)}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
	}
	_, err := e.Compile(&Spec{Request: &Template{Extractors: map[string]Extractor{"x": {Regex: "(a", Subgroup: 1}}}})
	if err == nil || !strings.Contains(err.Error(), `request.extractors["x"].regex`) {
		t.Errorf("bad regex: %v", err)
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	_, err := NewEngine(Options{}).Compile(&Spec{Request: &Template{Headers: map[string]string{"x": `ab {{ 1 + }}`}}})
	var ce *CompileError
	if !errors.As(err, &ce) || ce.Line != 1 || ce.Column < 1 || ce.Column > 12 {
		t.Fatalf("got %#v", err)
	}
}

func TestRunawayTemplatesAreBounded(t *testing.T) {
	e := NewEngine(Options{RenderTimeout: 50 * time.Millisecond, MaxOutput: 1 << 10, MaxLoopIterations: 1 << 40})
	big := []byte(`{"x": "` + strings.Repeat("a", 200_000) + `"}`)
	slow := compile(t, e, &Template{Body: str(`{% for a in x %}{% for b in x %}{% endfor %}{% endfor %}`)})
	start := time.Now()
	_, _, err := slow.Apply(Input{Headers: mapHeaders{}, Body: big})
	if err == nil || !strings.Contains(err.Error(), "render exceeded") || time.Since(start) > time.Second {
		t.Fatalf("runaway loop: %v after %s", err, time.Since(start))
	}
	loud := compile(t, e, &Template{Body: str(`{% for a in x %}{{ a }}{% endfor %}`)})
	if _, _, err := loud.Apply(Input{Headers: mapHeaders{}, Body: big}); err == nil || !strings.Contains(err.Error(), "output exceeds") {
		t.Fatalf("output bound: %v", err)
	}
}

func TestFastPathMatchesPongo2(t *testing.T) {
	e := NewEngine(Options{})
	src := `/a/{{ header("x-id") }}/{{extraction( "e" )}}-{{ request_header("x-id") }}`
	segs, ok := fastSegments(src)
	if !ok || len(segs) != 6 {
		t.Fatalf("fast path not taken: %v", segs)
	}
	fast := compile(t, e, &Template{Extractors: map[string]Extractor{"e": {Header: "x-id", Regex: ".*"}}, Headers: map[string]string{"x-out": src}})
	slow := compile(t, e, &Template{Extractors: map[string]Extractor{"e": {Header: "x-id", Regex: ".*"}}, Headers: map[string]string{"x-out": src + "{# force pongo2 #}"}})
	for _, c := range []*Compiled{fast, slow} {
		h := mapHeaders{"x-id": {"7<&>"}}
		if _, _, err := c.Apply(Input{Headers: h}); err != nil || h["x-out"][0] != "/a/7<&>/7<&>-7<&>" {
			t.Fatalf("%v %v", err, h)
		}
	}
}

// BenchmarkRenderTypicalRequest renders what a REST function route does:
// path and method from a header, a header appended.
func BenchmarkRenderTypicalRequest(b *testing.B) {
	tr, err := NewEngine(Options{}).Compile(&Spec{Request: &Template{
		Headers:         map[string]string{":path": `/api/pets/{{ header("x-pet-id") }}`, ":method": "GET"},
		HeadersToAppend: []HeaderValue{{Key: "x-gluon-function", Value: "findPetById"}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	h := mapHeaders{":path": {"/petstore/findPet"}, ":method": {"GET"}, "x-pet-id": {"2"}}
	b.ReportAllocs()
	for b.Loop() {
		h[":path"] = h[":path"][:1]
		h["x-gluon-function"] = nil
		if _, _, err := tr.Request.Apply(Input{Headers: h}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCompileRender compiles and renders arbitrary templates: config and
// request bodies are untrusted, and neither may crash the gateway.
func FuzzCompileRender(f *testing.F) {
	for _, s := range []string{`{{ header("x") }}`, `{% for a in tags %}{{ a }}{% endfor %}`, `{{ substring(body(), 1, 2) }}`,
		`{% if x > 1 %}{{ x * 2 }}{% endif %}`, `{{ base64_decode(body()) }}`, `{% with a=name %}{{ a|upper }}{% endwith %}`, `{{ "a"|ljust:5 }}`} {
		f.Add(s, []byte(`{"x": 2, "tags": ["a"], "name": "n"}`))
	}
	e := NewEngine(Options{RenderTimeout: 20 * time.Millisecond, MaxOutput: 1 << 12})
	f.Fuzz(func(t *testing.T, tpl string, body []byte) {
		tr, err := e.Compile(&Spec{Request: &Template{Body: &tpl, Headers: map[string]string{"x": tpl}}})
		if err != nil {
			return
		}
		_, _, _ = tr.Request.Apply(Input{Headers: mapHeaders{"x": {"1"}}, Body: body})
	})
}
