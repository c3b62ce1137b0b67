package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api"
)

// fileStore reads and writes resources in a config directory, editing a
// resource in place in the file (and document) it came from, so that the
// other documents and their comments stay as they were.
type fileStore struct {
	dir string
}

// located is a resource and where it lives.
type located struct {
	obj  api.Object
	file string
	doc  int // index among the file's raw documents
}

func (s *fileStore) all() (map[api.Key]located, error) {
	if s.dir == "" {
		return nil, errors.New("no config directory: set --config-dir (or GLUON_CONFIG_DIR)")
	}
	out := map[api.Key]located{}
	err := filepath.WalkDir(s.dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if p != s.dir && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml") {
			return nil
		}
		docs, err := readDocs(p)
		if err != nil {
			return err
		}
		for i, raw := range docs {
			// A broken document that names its resource is indexed too
			// (with no object), so that it can be deleted or replaced.
			if d := api.Decode(raw); d.Object != nil || (d.Key.Kind != "" && d.Key.Name != "") {
				out[d.Key] = located{obj: d.Object, file: p, doc: i}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.dir, err)
	}
	return out, nil
}

func (s *fileStore) resources() (api.Resources, error) {
	all, err := s.all()
	if err != nil {
		return api.Resources{}, err
	}
	var res api.Resources
	for _, l := range all {
		if l.obj != nil {
			res.Add(l.obj)
		}
	}
	res.Sort()
	return res, nil
}

func (s *fileStore) get(k api.Key) (api.Object, bool, error) {
	all, err := s.all()
	if err != nil {
		return nil, false, err
	}
	l, ok := all[k]
	return l.obj, ok && l.obj != nil, nil
}

// put validates and writes a resource: in place if it exists, else in a
// new file named after it.
func (s *fileStore) put(o api.Object) (string, error) {
	if err := o.Validate(); err != nil {
		return "", fmt.Errorf("%s is invalid: %w", api.KeyOf(o), err)
	}
	raw, err := marshal(o)
	if err != nil {
		return "", err
	}
	all, err := s.all()
	if err != nil {
		return "", err
	}
	if l, ok := all[api.KeyOf(o)]; ok {
		return l.file, replaceDoc(l.file, l.doc, raw)
	}
	name := filepath.Join(s.dir, strings.ToLower(string(o.ResourceKind()))+"-"+o.GetNamespace()+"-"+o.GetName()+".yaml")
	return name, writeAtomic(name, raw)
}

func (s *fileStore) delete(k api.Key) (string, error) {
	all, err := s.all()
	if err != nil {
		return "", err
	}
	l, ok := all[k]
	if !ok {
		return "", fmt.Errorf("%s not found in %s", k, s.dir)
	}
	return l.file, replaceDoc(l.file, l.doc, nil)
}

// marshal renders a resource as YAML with apiVersion and kind first.
func marshal(o api.Object) ([]byte, error) {
	body, err := yaml.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", api.KeyOf(o), err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", api.KeyOf(o), err)
	}
	delete(m, "apiVersion")
	delete(m, "kind")
	meta := m["metadata"].(map[string]any)
	delete(meta, "creationTimestamp")
	rest, err := yaml.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", api.KeyOf(o), err)
	}
	return append([]byte("apiVersion: "+api.APIVersion+"\nkind: "+string(o.ResourceKind())+"\n"), rest...), nil
}

func readDocs(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		docs = append(docs, raw)
	}
}

// replaceDoc replaces document i of a file (nil removes it; a file left
// with no resource is removed).
func replaceDoc(path string, i int, raw []byte) error {
	docs, err := readDocs(path)
	if err != nil {
		return err
	}
	if raw == nil {
		docs = append(docs[:i], docs[i+1:]...)
	} else {
		docs[i] = raw
	}
	var kept [][]byte
	for _, d := range docs {
		if len(bytes.TrimSpace(d)) > 0 {
			kept = append(kept, bytes.TrimRight(d, "\n"))
		}
	}
	if len(kept) == 0 {
		return os.Remove(path)
	}
	return writeAtomic(path, append(bytes.Join(kept, []byte("\n---\n")), '\n'))
}

// writeAtomic replaces a file in one rename, so the watching control plane
// never reads half of it.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gluonctl-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
