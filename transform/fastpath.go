package transform

import (
	"regexp"
	"strings"
)

// Most request templates only splice headers and extractions into text
// ("/api/pets/{{ extraction(\"id\") }}"). Those are rendered without pongo2:
// no context map, no reflection, a handful of allocations.

type segmentKind uint8

const (
	literal segmentKind = iota
	headerLookup
	requestHeaderLookup
	extractionLookup
)

type segment struct {
	kind  segmentKind
	value string // the literal text, or the name looked up
}

var lookupExpr = regexp.MustCompile(`^\s*(header|request_header|extraction)\(\s*"([^"\\]*)"\s*\)\s*$`)

var lookupKinds = map[string]segmentKind{"header": headerLookup, "request_header": requestHeaderLookup, "extraction": extractionLookup}

// fastSegments splits a template made only of text and lookups; ok is false
// for anything else, which pongo2 then compiles.
func fastSegments(src string) (segs []segment, ok bool) {
	if strings.Contains(src, "{%") || strings.Contains(src, "{#") {
		return nil, false
	}
	for src != "" {
		open := strings.Index(src, "{{")
		if open < 0 {
			return append(segs, segment{literal, src}), true
		}
		if open > 0 {
			segs = append(segs, segment{literal, src[:open]})
		}
		end := strings.Index(src[open:], "}}")
		if end < 0 {
			return nil, false
		}
		m := lookupExpr.FindStringSubmatch(src[open+2 : open+end])
		if m == nil {
			return nil, false
		}
		segs = append(segs, segment{lookupKinds[m[1]], m[2]})
		src = src[open+end+2:]
	}
	return segs, true
}

func (t *text) renderFast(rc *renderContext, out []byte) []byte {
	for _, s := range t.fast {
		switch s.kind {
		case literal:
			out = append(out, s.value...)
		case headerLookup:
			out = append(out, rc.header(s.value)...)
		case requestHeaderLookup:
			out = append(out, rc.requestHeader(s.value)...)
		case extractionLookup:
			out = append(out, rc.extraction(s.value)...)
		}
	}
	return out
}
