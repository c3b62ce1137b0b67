// Package accessformat is Envoy's access log format: text with command
// operators (%START_TIME%, %REQ(:METHOD)%, %RESPONSE_CODE%, …), or a JSON
// object whose values are such text. Stage 1 parses formats to reject one
// with an operator Gluon does not know; the data plane renders lines with
// it. Standard library only, so both sides can use it.
package accessformat

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultText is Envoy's default access log format.
const DefaultText = `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"` + "\n"

// Entry is what a line is made of: one request, as the proxy saw it.
type Entry struct {
	Start         time.Time
	Duration      time.Duration
	Method        string
	Path          string // the request's :path as received
	Authority     string
	Protocol      string // HTTP/1.1, HTTP/2
	Request       func(name string) string
	Response      func(name string) string
	Code          int
	Flags         string // Envoy's response flags ("-" for none)
	BytesReceived int64
	BytesSent     int64
	UpstreamHost  string
	Cluster       string
	Route         string
	RemoteAddr    string // ip:port
}

// Format is a compiled format: a text line, or a JSON object.
type Format struct {
	text []part
	json map[string][]part // the keys, sorted, are the line's order
	keys []string
}

// part is literal text or one operator.
type part struct {
	literal string
	op      func(*Entry) string
}

// ParseText compiles a text format.
func ParseText(s string) (*Format, error) {
	parts, err := parse(s)
	if err != nil {
		return nil, err
	}
	return &Format{text: parts}, nil
}

// ParseJSON compiles a JSON format: each value is text with operators.
func ParseJSON(fields map[string]string) (*Format, error) {
	if len(fields) == 0 {
		return nil, errors.New("a JSON format needs at least one field")
	}
	f := &Format{json: map[string][]part{}}
	for k, v := range fields {
		parts, err := parse(v)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", k, err)
		}
		f.json[k] = parts
		f.keys = append(f.keys, k)
	}
	sort.Strings(f.keys)
	return f, nil
}

// Render writes e's line, newline included for JSON (a text format says
// its own, as in Envoy).
func (f *Format) Render(e *Entry) []byte {
	if f.json == nil {
		return []byte(render(f.text, e))
	}
	obj := make(map[string]string, len(f.json))
	for k, parts := range f.json {
		obj[k] = render(parts, e)
	}
	b, _ := json.Marshal(obj) // strings only: cannot fail
	return append(b, '\n')
}

func render(parts []part, e *Entry) string {
	var b strings.Builder
	for _, p := range parts {
		if p.op == nil {
			b.WriteString(p.literal)
			continue
		}
		v := p.op(e)
		if v == "" {
			v = "-" // Envoy's mark for a value not there
		}
		b.WriteString(v)
	}
	return b.String()
}

func parse(s string) ([]part, error) {
	var out []part
	for s != "" {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			out = append(out, part{literal: s})
			break
		}
		if i > 0 {
			out = append(out, part{literal: s[:i]})
		}
		s = s[i+1:]
		j := strings.IndexByte(s, '%')
		if j < 0 {
			return nil, errors.New("a % opens an operator that never closes")
		}
		name := s[:j]
		s = s[j+1:]
		if name == "" { // %% is a literal %
			out = append(out, part{literal: "%"})
			continue
		}
		op, err := operator(name)
		if err != nil {
			return nil, err
		}
		out = append(out, part{op: op})
	}
	return out, nil
}

// operator compiles one command operator.
func operator(name string) (func(*Entry) string, error) {
	if simple, ok := simpleOperators[name]; ok {
		return simple, nil
	}
	for _, kind := range []string{"REQ", "RESP"} {
		if arg, ok := strings.CutPrefix(name, kind+"("); ok {
			return headerOperator(kind, arg)
		}
	}
	if strings.HasPrefix(name, "START_TIME(") && strings.HasSuffix(name, ")") {
		return nil, fmt.Errorf("operator %%%s%%: START_TIME takes no format here (RFC 3339 with milliseconds)", name)
	}
	return nil, fmt.Errorf("unknown operator %%%s%%", name)
}

var simpleOperators = map[string]func(*Entry) string{
	"START_TIME":                func(e *Entry) string { return e.Start.UTC().Format("2006-01-02T15:04:05.000Z") },
	"DURATION":                  func(e *Entry) string { return strconv.FormatInt(e.Duration.Milliseconds(), 10) },
	"RESPONSE_CODE":             func(e *Entry) string { return strconv.Itoa(e.Code) },
	"RESPONSE_FLAGS":            func(e *Entry) string { return e.Flags },
	"BYTES_RECEIVED":            func(e *Entry) string { return strconv.FormatInt(e.BytesReceived, 10) },
	"BYTES_SENT":                func(e *Entry) string { return strconv.FormatInt(e.BytesSent, 10) },
	"PROTOCOL":                  func(e *Entry) string { return e.Protocol },
	"UPSTREAM_HOST":             func(e *Entry) string { return e.UpstreamHost },
	"UPSTREAM_CLUSTER":          func(e *Entry) string { return e.Cluster },
	"ROUTE_NAME":                func(e *Entry) string { return e.Route },
	"DOWNSTREAM_REMOTE_ADDRESS": func(e *Entry) string { return e.RemoteAddr },
	"DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": func(e *Entry) string {
		if i := strings.LastIndexByte(e.RemoteAddr, ':'); i >= 0 {
			return strings.Trim(e.RemoteAddr[:i], "[]")
		}
		return e.RemoteAddr
	},
}

// headerOperator is %REQ(NAME?ALT):MAX% or %RESP(NAME?ALT):MAX%: the
// header (or pseudo-header) NAME, else ALT, cut to MAX bytes.
func headerOperator(kind, arg string) (func(*Entry) string, error) {
	closing := strings.LastIndexByte(arg, ')')
	if closing < 0 {
		return nil, fmt.Errorf("operator %%%s(%s%%: no closing parenthesis", kind, arg)
	}
	names, rest := arg[:closing], arg[closing+1:]
	maxLen := -1
	if rest != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(rest, ":"))
		if !strings.HasPrefix(rest, ":") || err != nil || n < 0 {
			return nil, fmt.Errorf("operator %%%s(%s%%: %q is not :LENGTH", kind, arg, rest)
		}
		maxLen = n
	}
	main, alt, _ := strings.Cut(names, "?")
	if main == "" {
		return nil, fmt.Errorf("operator %%%s(%s%%: no header named", kind, arg)
	}
	get := func(e *Entry, name string) string {
		if kind == "RESP" {
			return e.Response(name)
		}
		switch strings.ToLower(name) {
		case ":method":
			return e.Method
		case ":path":
			return e.Path
		case ":authority":
			return e.Authority
		}
		return e.Request(name)
	}
	return func(e *Entry) string {
		v := get(e, main)
		if v == "" && alt != "" {
			v = get(e, alt)
		}
		if maxLen >= 0 && len(v) > maxLen {
			v = v[:maxLen]
		}
		return v
	}, nil
}
