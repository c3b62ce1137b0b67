package transform

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flosch/pongo2/v6"
)

// templateFunctions are the functions every slow-path template can call,
// Gloo's inja set in pongo2 form: {{ header("x-id") }}, {{ base64_encode(body()) }}.
func (rc *renderContext) templateFunctions() pongo2.Context {
	return pongo2.Context{
		"header":         func(name *pongo2.Value) string { return rc.header(name.String()) },
		"request_header": func(name *pongo2.Value) string { return rc.requestHeader(name.String()) },
		"extraction":     func(name *pongo2.Value) string { return rc.extraction(name.String()) },
		"body":           func() string { return string(rc.body) },
		"context":        func() any { return rc.jsonBody() },
		"env":            func(name *pongo2.Value) string { return rc.c.engine.opts.Env[name.String()] },
		"base64_encode":  func(s *pongo2.Value) string { return base64.StdEncoding.EncodeToString([]byte(s.String())) },
		"base64_decode":  base64Decode,
		"substring":      substring,
		"trim":           func(s *pongo2.Value) string { return strings.TrimSpace(s.String()) },
		"replace": func(s, old, repl *pongo2.Value) string {
			return strings.ReplaceAll(s.String(), old.String(), repl.String())
		},
		"raw_string": rawString,
		"default": func(v, fallback *pongo2.Value) *pongo2.Value {
			if v.IsNil() || v.String() == "" {
				return fallback
			}
			return v
		},
	}
}

func base64Decode(s *pongo2.Value) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s.String())
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
func rawString(v *pongo2.Value) string {
	b, _ := json.Marshal(v.String()) // a string always marshals
	return string(b[1 : len(b)-1])
}
