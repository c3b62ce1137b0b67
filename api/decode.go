package api

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Document is one YAML document of a multi-document stream: either a decoded
// Object or the error that kept it from being one. Key is filled in as far as
// the document could be read, so that a broken document can still be named.
//
// +kubebuilder:object:generate=false
type Document struct {
	Index  int
	Key    Key
	Object Object
	Err    error
}

// DecodeAll splits a multi-document YAML stream and decodes each document on
// its own: one broken document never hides the others.
func DecodeAll(data []byte) []Document {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs []Document
	for i := 0; ; i++ {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			return append(docs, Document{Index: i, Err: fmt.Errorf("document %d: %w", i, err)})
		}
		if len(bytes.TrimSpace(stripComments(raw))) == 0 {
			i--
			continue
		}
		d := Decode(raw)
		d.Index = i
		docs = append(docs, d)
	}
}

// stripComments drops comment-only lines so that a document of comments is
// treated as empty.
func stripComments(raw []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
		}
	}
	return out
}

// Decode reads one document strictly (unknown fields are errors), defaults
// its namespace and validates it.
func Decode(raw []byte) Document {
	var head struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata"`
	}
	if err := yaml.Unmarshal(raw, &head); err != nil {
		return Document{Err: fmt.Errorf("not YAML: %w", err)}
	}
	ns := head.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	d := Document{Key: Key{Kind: Kind(head.Kind), Namespace: ns, Name: head.Name}}
	if head.APIVersion != APIVersion {
		d.Err = fmt.Errorf("apiVersion: want %q, got %q", APIVersion, head.APIVersion)
		return d
	}
	obj, err := newObject(d.Key.Kind)
	if err != nil {
		d.Err = err
		return d
	}
	if err := yaml.UnmarshalStrict(raw, obj); err != nil {
		d.Err = fmt.Errorf("%s: %w", d.Key, err)
		return d
	}
	if obj.GetNamespace() == "" {
		obj.SetNamespace(DefaultNamespace)
	}
	if err := obj.Validate(); err != nil {
		d.Err = err
		return d
	}
	d.Object = obj
	return d
}

func newObject(k Kind) (Object, error) {
	switch k {
	case KindUpstream:
		return &Upstream{}, nil
	case KindVirtualService:
		return &VirtualService{}, nil
	case KindGateway:
		return &Gateway{}, nil
	case KindSettings:
		return &Settings{}, nil
	case KindSecret:
		return &Secret{}, nil
	case KindRouteOption:
		return &RouteOption{}, nil
	}
	return nil, fmt.Errorf("kind: %q is not one of Upstream, VirtualService, Gateway, Settings, Secret, RouteOption", k)
}
