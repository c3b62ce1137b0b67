package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// splitObject returns the members of a JSON object, each value as the
// bytes it spans in raw (not copied), in one pass. encoding/json would
// validate all of raw and then scan it again to copy each value; a large
// document is mostly parts discovery never reads (GitHub's shared schemas),
// so values are only delimited here, and checked when one is decoded.
// A key given twice keeps its last value, as encoding/json does.
func splitObject(raw []byte) (map[string]json.RawMessage, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, errors.New("not a JSON object")
	}
	out := map[string]json.RawMessage{}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return out, trailing(raw, i+1)
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return nil, fmt.Errorf("offset %d: want a member name", i)
		}
		end, err := stringEnd(raw, i)
		if err != nil {
			return nil, err
		}
		key, err := memberName(raw[i:end])
		if err != nil {
			return nil, err
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, fmt.Errorf("offset %d: want ':'", i)
		}
		start := skipSpace(raw, i+1)
		if end, err = valueEnd(raw, start); err != nil {
			return nil, err
		}
		out[key] = raw[start:end]
		i = skipSpace(raw, end)
		switch {
		case i < len(raw) && raw[i] == ',':
			i = skipSpace(raw, i+1)
		case i < len(raw) && raw[i] == '}':
			return out, trailing(raw, i+1)
		default:
			return nil, fmt.Errorf("offset %d: want ',' or '}'", i)
		}
	}
}

// memberName decodes a quoted member name; most need no unescaping.
func memberName(quoted []byte) (string, error) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err
}

// valueEnd is the offset just after the JSON value starting at i: a
// string, an object or array (nesting counted, strings skipped), or a
// literal or number (up to the next delimiter).
func valueEnd(raw []byte, i int) (int, error) {
	if i >= len(raw) {
		return 0, errors.New("unexpected end of the document")
	}
	switch raw[i] {
	case '"':
		return stringEnd(raw, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(raw); j++ {
			switch raw[j] {
			case '"':
				end, err := stringEnd(raw, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unexpected end of the document")
	}
	j := i
	for j < len(raw) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(raw[j])) {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("offset %d: want a value", i)
	}
	return j, nil
}

// stringEnd is the offset just after the string whose quote is at i.
func stringEnd(raw []byte, i int) (int, error) {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unterminated string")
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r' || raw[i] == '\n') {
		i++
	}
	return i
}

func trailing(raw []byte, i int) error {
	if i = skipSpace(raw, i); i != len(raw) {
		return fmt.Errorf("offset %d: data after the object", i)
	}
	return nil
}
