package transcode

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// pathTemplate is a google.api.http path template, compiled:
// "/v1/{name=shelves/*}/books/{id}:get".
type pathTemplate struct {
	segments []segment
	verb     string
	vars     []variable
	// literal is the path of a template of literal segments only, after
	// its leading "/" and before its verb.
	literal string
}

// segment is a literal, "*" (one segment) or "**" (the rest).
type segment struct {
	literal string
	kind    segmentKind
}

type segmentKind uint8

const (
	segLiteral segmentKind = iota
	segOne
	segRest
)

// variable binds field to the path segments [start, end); end -1: to the
// end of the path.
type variable struct {
	field      string
	start, end int
}

var errTemplate = errors.New("bad path template")

// parseTemplate compiles a template per google/api/http.proto's grammar.
func parseTemplate(t string) (*pathTemplate, error) {
	if !strings.HasPrefix(t, "/") {
		return nil, fmt.Errorf("%w %q: it must start with /", errTemplate, t)
	}
	p := &pathTemplate{}
	rest := t[1:]
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.ContainsAny(rest[i:], "/}") {
		rest, p.verb = rest[:i], rest[i+1:]
	}
	for rest != "" {
		var err error
		if rest, err = p.parseSegment(rest); err != nil {
			return nil, fmt.Errorf("%w %q: %v", errTemplate, t, err)
		}
	}
	for i, s := range p.segments {
		if s.kind == segRest && i != len(p.segments)-1 {
			return nil, fmt.Errorf("%w %q: ** must be last", errTemplate, t)
		}
	}
	if len(p.vars) == 0 && p.literalOnly() {
		p.literal = rest0(t, p.verb)
	}
	return p, nil
}

// parseSegment reads one segment or variable and the "/" after it.
func (p *pathTemplate) parseSegment(rest string) (string, error) {
	if rest[0] == '{' {
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return "", errors.New("unclosed {")
		}
		field, sub, hasSub := strings.Cut(rest[1:end], "=")
		if field == "" {
			return "", errors.New("a variable without a field")
		}
		v := variable{field: field, start: len(p.segments)}
		if !hasSub {
			sub = "*"
		}
		for s := range strings.SplitSeq(sub, "/") {
			if s == "" {
				return "", errors.New("an empty segment")
			}
			p.segments = append(p.segments, plainSegment(s))
		}
		v.end = len(p.segments)
		if p.segments[v.end-1].kind == segRest {
			v.end = -1
		}
		p.vars = append(p.vars, v)
		rest = rest[end+1:]
	} else {
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			return "", errors.New("an empty segment")
		}
		p.segments = append(p.segments, plainSegment(rest[:end]))
		rest = rest[end:]
	}
	if rest == "" {
		return "", nil
	}
	if rest[0] != '/' || len(rest) == 1 {
		return "", fmt.Errorf("unexpected %q", rest)
	}
	return rest[1:], nil
}

func plainSegment(s string) segment {
	switch s {
	case "*":
		return segment{kind: segOne}
	case "**":
		return segment{kind: segRest}
	}
	return segment{literal: s}
}

// match matches a request path (without its query); it returns the
// variables' values, percent-decoded (an encoded "/" kept encoded in
// multi-segment variables, as the specification says).
func (p *pathTemplate) match(path string) (map[string]string, bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	path = path[1:]
	if p.verb != "" {
		var ok bool
		if path, ok = strings.CutSuffix(path, ":"+p.verb); !ok {
			return nil, false
		}
	}
	if len(p.vars) == 0 && p.literalOnly() {
		return nil, path == p.literalPath()
	}
	parts := strings.Split(path, "/")
	if path == "" {
		parts = nil
	}
	for i, s := range p.segments {
		switch {
		case s.kind == segRest:
			parts = append(parts[:i:i], strings.Join(parts[i:], "/"))
		case i >= len(parts):
			return nil, false
		case s.kind == segLiteral && parts[i] != s.literal:
			return nil, false
		}
	}
	if len(parts) != len(p.segments) {
		return nil, false
	}
	vars := make(map[string]string, len(p.vars))
	for _, v := range p.vars {
		end := v.end
		if end < 0 {
			end = len(parts)
		}
		raw := parts[v.start]
		if end-v.start != 1 {
			raw = strings.Join(parts[v.start:end], "/")
		}
		if end-v.start != 1 || p.segments[v.start].kind == segRest {
			// A multi-segment variable keeps an encoded "/" encoded.
			raw = strings.ReplaceAll(strings.ReplaceAll(raw, "%2F", "%252F"), "%2f", "%252f")
		}
		value, err := url.PathUnescape(raw)
		if err != nil {
			return nil, false
		}
		vars[v.field] = value
	}
	return vars, true
}

// literalOnly reports whether the template is literal segments only: it
// matches one path, compared whole.
func (p *pathTemplate) literalOnly() bool {
	for _, s := range p.segments {
		if s.kind != segLiteral {
			return false
		}
	}
	return true
}

// literalPath is a literal-only template's path (without "/" or verb).
func (p *pathTemplate) literalPath() string { return p.literal }

// rest0 is template t without its leading "/" and its ":verb".
func rest0(t, verb string) string {
	out := t[1:]
	if verb != "" {
		out = strings.TrimSuffix(out, ":"+verb)
	}
	return out
}
