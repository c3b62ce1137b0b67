package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// member is a member of a JSON object, its value undecoded.
type member struct {
	key   []byte // its name as the document spells it (escapes too)
	value json.RawMessage
}

// members are an object's members in document order. Most objects
// discovery reads are small, where a slice costs far less than a map.
type members []member

// get is the value of key; a key given twice has its last value, as
// encoding/json decodes it.
func (m members) get(key string) (json.RawMessage, bool) {
	for i := len(m) - 1; i >= 0; i-- {
		if string(m[i].key) == key {
			return m[i].value, true
		}
	}
	return nil, false
}

// value is the value of key, nil when there is none.
func (m members) value(key string) json.RawMessage {
	v, _ := m.get(key)
	return v
}

// sortedKeys are the object's keys, sorted, each once.
func (m members) sortedKeys() []string {
	keys := make([]string, 0, len(m))
	for _, mb := range m {
		keys = append(keys, mb.name())
	}
	sort.Strings(keys)
	return slices.Compact(keys)
}

// asMap is the object as a map, for objects looked up often.
func (m members) asMap() map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m))
	for _, mb := range m {
		out[mb.name()] = mb.value
	}
	return out
}

// name is the member's name, unescaped.
func (mb member) name() string {
	if bytes.IndexByte(mb.key, '\\') < 0 {
		return string(mb.key)
	}
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, mb.key...), '"'), &s) != nil {
		return string(mb.key)
	}
	return s
}

// splitObject returns the members of a JSON object, each value as the
// bytes it spans in raw (not copied), in one pass. encoding/json would
// validate all of raw and then scan it again to copy each value; a large
// document is mostly parts discovery never reads (GitHub's shared schemas),
// so values are only delimited here, and checked when one is decoded.
func splitObject(raw []byte) (members, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, errors.New("not a JSON object")
	}
	out := make(members, 0, 8)
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
		key := raw[i+1 : end-1]
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ':' {
			return nil, fmt.Errorf("offset %d: want ':'", i)
		}
		start := skipSpace(raw, i+1)
		if end, err = valueEnd(raw, start); err != nil {
			return nil, err
		}
		out = append(out, member{key, raw[start:end]})
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
			switch c := raw[j]; {
			case !structural[c]:
			case c == '"':
				end, err := stringEnd(raw, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case c == '{' || c == '[':
				depth++
			default: // '}' or ']'
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unexpected end of the document")
	}
	j := i
	for j < len(raw) && strings.IndexByte(",}] \t\r\n", raw[j]) < 0 {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("offset %d: want a value", i)
	}
	return j, nil
}

// structural marks the bytes that delimit containers: strings (which may
// hold the others) and brackets.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// stringEnd is the offset just after the string whose quote is at i: the
// next quote not escaped (preceded by an even number of backslashes).
func stringEnd(raw []byte, i int) (int, error) {
	for j := i + 1; j < len(raw); {
		k := bytes.IndexByte(raw[j:], '"')
		if k < 0 {
			break
		}
		q := j + k
		n := 0
		for q-1-n > i && raw[q-1-n] == '\\' {
			n++
		}
		if n%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
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

// splitArray returns the elements of a JSON array, each as the bytes it
// spans in raw, in one pass (see splitObject).
func splitArray(raw []byte) ([]json.RawMessage, error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '[' {
		return nil, errors.New("not a JSON array")
	}
	var out []json.RawMessage
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return out, trailing(raw, i+1)
	}
	for {
		end, err := valueEnd(raw, i)
		if err != nil {
			return nil, err
		}
		out = append(out, raw[i:end])
		i = skipSpace(raw, end)
		switch {
		case i < len(raw) && raw[i] == ',':
			i = skipSpace(raw, i+1)
		case i < len(raw) && raw[i] == ']':
			return out, trailing(raw, i+1)
		default:
			return nil, fmt.Errorf("offset %d: want ',' or ']'", i)
		}
	}
}

// decodeString decodes a JSON string; most need no unescaping.
func decodeString(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}
