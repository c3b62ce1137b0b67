package api

import (
	"strings"
	"testing"
)

func TestDecodeDefaultsNamespace(t *testing.T) {
	docs := DecodeAll([]byte("apiVersion: gluon.dev/v1\nkind: Upstream\nmetadata: {name: a}\nspec: {static: {hosts: [{addr: h.example, port: 80}]}}\n"))
	if len(docs) != 1 || docs[0].Err != nil || docs[0].Object.GetNamespace() != DefaultNamespace {
		t.Fatalf("%+v", docs)
	}
}

func TestDecodeErrorsNameTheResource(t *testing.T) {
	cases := map[string]string{
		"apiVersion: v1\nkind: Upstream\nmetadata: {name: a}\n":                                    `apiVersion: want "gluon.dev/v1"`,
		"apiVersion: gluon.dev/v1\nkind: Upstream\nmetadata: {name: a}\nspec: {statc: {}}\n":       `unknown field "statc"`,
		"apiVersion: gluon.dev/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {bindPort: 80}\n":     `spec.bindAddress: "" is not an IP address`,
		"apiVersion: gluon.dev/v1\nkind: Upstream\nmetadata: {name: Bad_Name}\nspec: {static: {}}": "metadata.name",
	}
	for in, want := range cases {
		docs := DecodeAll([]byte(in))
		if len(docs) != 1 || docs[0].Err == nil || !strings.Contains(docs[0].Err.Error(), want) {
			t.Errorf("%q: got %+v, want error containing %q", in, docs, want)
		}
	}
}

// FuzzDecodeAll feeds arbitrary bytes to the YAML decoder and validators:
// config files are user input and must never crash the control plane.
func FuzzDecodeAll(f *testing.F) {
	f.Add([]byte("apiVersion: gluon.dev/v1\nkind: VirtualService\nmetadata: {name: v}\nspec: {virtualHost: {routes: [{matchers: [{regex: '(a'}], directResponseAction: {status: 200}}]}}\n"))
	f.Add([]byte("---\n---\nkind: Gateway\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range DecodeAll(data) {
			if (d.Err == nil) == (d.Object == nil) {
				t.Fatalf("document %d: exactly one of Err and Object must be set: %+v", d.Index, d)
			}
		}
	})
}
