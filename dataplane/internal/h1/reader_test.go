package h1

import (
	"bufio"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// TestReadRequestHeaderKeepsSpellings: names not sent canonical are
// recorded as sent, the first field of a name setting its spelling; the
// header itself is keyed canonically either way.
func TestReadRequestHeaderKeepsSpellings(t *testing.T) {
	for _, c := range []struct {
		block string
		want  map[string]string
	}{
		{"Host: a\r\nContent-Type: b\r\nX-Api-Key: c\r\n\r\n", nil},
		{"host: a\r\nMixed-CASE: b\r\nX-API-Key: c\r\nAccept: d\r\n\r\n",
			map[string]string{"host": "host", "mixed-case": "Mixed-CASE", "x-api-key": "X-API-Key"}},
		{"x-tag: 1\r\nX-TAG: 2\r\n\r\n", map[string]string{"x-tag": "x-tag"}},
		{"X-Tag: 1\r\nx-tag: 2\r\n\r\n", nil}, // the first was canonical
	} {
		r := HeadReader{BR: bufio.NewReader(strings.NewReader(c.block))}
		h := http.Header{}
		got, err := r.ReadRequestHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("%q: spellings %v, want %v", c.block, got, c.want)
		}
		for k := range h {
			if k != http.CanonicalHeaderKey(k) {
				t.Errorf("%q: header key %q not canonical", c.block, k)
			}
		}
	}
}

// TestCanonicalRequestHeaderCostsNoMore: the record costs allocations only
// for names that were not canonical, so the common request pays nothing.
func TestCanonicalRequestHeaderCostsNoMore(t *testing.T) {
	block := "Content-Type: a\r\nX-Tag: b\r\nUser-Agent: c\r\n\r\n"
	r := HeadReader{}
	h := http.Header{}
	allocs := func(read func() error) float64 {
		return testing.AllocsPerRun(100, func() {
			r.BR = bufio.NewReader(strings.NewReader(block))
			clear(h)
			if err := read(); err != nil {
				t.Fatal(err)
			}
		})
	}
	plain := allocs(func() error { return r.ReadHeader(h) })
	recorded := allocs(func() error { _, err := r.ReadRequestHeader(h); return err })
	if recorded != plain {
		t.Errorf("a canonical block costs %v allocations with the record, %v without", recorded, plain)
	}
}
