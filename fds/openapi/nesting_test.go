package openapi

import (
	"fmt"
	"strings"
	"testing"
)

// TestNestingIsBounded drives a document's nesting depth, in JSON and in
// YAML, and the length of a $ref chain: each gives functions or an error,
// never a crash.
func TestNestingIsBounded(t *testing.T) {
	doc := func(schema string) string {
		return `{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{"/a":{"post":{"operationId":"a","requestBody":{"content":{"application/json":{"schema":` + schema + `}}},"responses":{"200":{"description":"ok"}}}}}}`
	}
	for _, n := range []int{10, MaxDepth, 1000, 100_000, 1_000_000} {
		nested := strings.Repeat(`{"type":"array","items":`, n) + `{"type":"string"}` + strings.Repeat("}", n)
		fns, err := Parse([]byte(doc(nested)))
		if deep := n+8 > MaxDepth; deep != (err != nil) || !deep && len(fns) != 1 {
			t.Errorf("json nested %d: %d functions, %v", n, len(fns), err)
		}
		yamlDoc := "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths: {/a: {get: {operationId: a, responses: {'200': {description: " +
			strings.Repeat("[", n) + strings.Repeat("]", n) + "}}}}}\n"
		if _, err := Parse([]byte(yamlDoc)); n > MaxDepth && err == nil {
			t.Errorf("yaml nested %d: accepted", n)
		}
	}
	for _, n := range []int{10, 1000, 20_000} {
		var b strings.Builder
		b.WriteString(`{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{"/a":{"post":{"operationId":"a","requestBody":{"content":{"application/json":{"schema":{"$ref":"#/components/schemas/s0"}}}},"responses":{"200":{"description":"ok"}}}}},"components":{"schemas":{`)
		for i := range n {
			fmt.Fprintf(&b, `"s%d":{"type":"object","properties":{"x":{"$ref":"#/components/schemas/s%d"}}},`, i, i+1)
		}
		fmt.Fprintf(&b, `"s%d":{"type":"string"}}}}`, n)
		if fns, err := Parse([]byte(b.String())); err != nil || len(fns) != 1 {
			t.Errorf("$ref chain of %d: %d functions, %v", n, len(fns), err)
		}
	}
}
