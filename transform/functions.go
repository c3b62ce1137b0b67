package transform

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/flosch/pongo2/v6"
)

// templateFunctions are the functions every slow-path template can call,
// Gloo's inja set in pongo2 form: {{ header("x-id") }}, {{ base64_encode(body()) }}.
// Each charges what it produces to budget before producing it.
func (rc *renderContext) templateFunctions(budget *renderBudget) pongo2.Context {
	return pongo2.Context{
		"header":         func(name *pongo2.Value) string { return rc.header(name.String()) },
		"request_header": func(name *pongo2.Value) string { return rc.requestHeader(name.String()) },
		"extraction":     func(name *pongo2.Value) string { return rc.extraction(name.String()) },
		"body":           rc.bodyString,
		"context":        func() any { return rc.jsonBody() },
		"env":            func(name *pongo2.Value) string { return rc.c.engine.opts.Env[name.String()] },
		"base64_encode": func(s *pongo2.Value) string {
			in := s.String()
			budget.allocate(base64.StdEncoding.EncodedLen(len(in)))
			return base64.StdEncoding.EncodeToString([]byte(in))
		},
		"base64_decode": func(s *pongo2.Value) (string, error) {
			in := s.String()
			budget.allocate(base64.StdEncoding.DecodedLen(len(in)))
			return base64Decode(in)
		},
		"substring": func(args ...*pongo2.Value) (string, error) {
			if len(args) > 0 {
				budget.allocate(4 * len(args[0].String())) // as runes
			}
			return substring(args...)
		},
		"trim": func(s *pongo2.Value) string { return strings.TrimSpace(s.String()) },
		"replace": func(s, old, repl *pongo2.Value) string {
			in, o, r := s.String(), old.String(), repl.String()
			budget.allocate(replacedLen(in, o, r))
			return strings.ReplaceAll(in, o, r)
		},
		"raw_string": func(v *pongo2.Value) string {
			in := v.String()
			budget.allocate(6 * len(in)) // the longest escape, \u00XX, per byte
			return rawString(in)
		},
		"join": func(list, sep *pongo2.Value) string { return join(budget, list, sep.String()) },
		"default": func(v, fallback *pongo2.Value) *pongo2.Value {
			if v.IsNil() || v.String() == "" {
				return fallback
			}
			return v
		},
	}
}

// replacedLen is the length of strings.ReplaceAll(s, old, repl), computed
// without making it; an empty old matches before every rune and at the end.
func replacedLen(s, old, repl string) int {
	n := utf8.RuneCountInString(s) + 1
	if old != "" {
		n = strings.Count(s, old)
	}
	return len(s) + n*(len(repl)-len(old))
}

// join is inja's join(list, separator), charging the result first.
func join(budget *renderBudget, list *pongo2.Value, sep string) string {
	var items []string
	list.Iterate(func(_, _ int, item, _ *pongo2.Value) bool {
		s := pongo2.AsValue(item.Interface()).String() // items of a JSON list are interfaces
		budget.allocate(len(sep) + len(s))
		items = append(items, s)
		return true
	}, func() {})
	return strings.Join(items, sep)
}

func base64Decode(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("base64_decode: %w", err)
	}
	return string(b), nil
}

// substring(s, start[, length]) counts in runes, clamped to the string.
func substring(args ...*pongo2.Value) (string, error) {
	if len(args) < 2 || len(args) > 3 {
		return "", fmt.Errorf("substring takes (string, start[, length]), got %d arguments", len(args))
	}
	r := []rune(args[0].String())
	start := clamp(args[1].Integer(), 0, len(r))
	end := len(r)
	if len(args) == 3 {
		end = clamp(start+args[2].Integer(), start, len(r))
	}
	return string(r[start:end]), nil
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

// rawString escapes a value for use inside a JSON string literal.
func rawString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b[1 : len(b)-1])
}
