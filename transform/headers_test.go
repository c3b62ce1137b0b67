package transform

import (
	"errors"
	"net/http"
	"testing"
)

// TestRenderedHeadersMustBeSendable: a value made from request data used
// to carry NUL, CR and LF into the forwarded headers.
func TestRenderedHeadersMustBeSendable(t *testing.T) {
	e := NewEngine(Options{})
	cases := []struct {
		header, value string
		ok            bool
	}{
		{"x-out", "plain value\twith a tab", true},
		{"x-out", "a\x00b", false},
		{"x-out", "a\r\nx-injected: 1", false},
		{"x-out", "a\nb", false},
		{":path", "/a?b=c", true},
		{":path", "/a b", false},
		{":path", "/a\r\nHost: evil", false},
		{":method", "PATCH", true},
		{":method", "GET /x", false},
		{":authority", "a.test:8080", true},
		{":authority", "a.test/evil", false},
	}
	for _, side := range []struct {
		name   string
		status int
		spec   func(*Template) *Spec
	}{
		{"request", http.StatusBadRequest, func(t *Template) *Spec { return &Spec{Request: t} }},
		{"response", http.StatusBadGateway, func(t *Template) *Spec { return &Spec{Response: t} }},
	} {
		for _, c := range cases {
			tr, err := e.Compile(side.spec(&Template{Headers: map[string]string{c.header: `{{ header("x-in") }}`}}))
			if err != nil {
				t.Fatal(err)
			}
			compiled := tr.Request
			if compiled == nil {
				compiled = tr.Response
			}
			h := mapHeaders{"x-in": {c.value}}
			_, _, err = compiled.Apply(Input{Headers: h, RequestHeaders: h})
			var re *RenderError
			switch {
			case c.ok && err != nil:
				t.Errorf("%s %s %q: %v", side.name, c.header, c.value, err)
			case !c.ok && (!errors.As(err, &re) || re.Status != side.status):
				t.Errorf("%s %s %q: got %v, want a %d", side.name, c.header, c.value, err, side.status)
			}
		}
	}
}
