package openapi

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadV3 loads an OpenAPI 3 document with kin-openapi, parsing its path
// items on every core: kin's nested unmarshalling re-validates each subtree,
// which makes large documents (thousands of operations) slow on one core.
// The path items are then resolved against the document's components by
// kin's loader, as a plain load would.
func loadV3(js []byte) (*openapi3.T, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		return nil, err
	}
	rawPaths := top["paths"]
	top["paths"] = json.RawMessage(`{}`)
	rest, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false // documents never make us fetch anything
	doc, err := loader.LoadFromData(rest)
	if err != nil {
		return nil, err
	}
	if len(rawPaths) == 0 || string(rawPaths) == "null" {
		return doc, nil
	}
	items, err := parsePathItems(rawPaths)
	if err != nil {
		return nil, err
	}
	doc.Paths = openapi3.NewPathsWithCapacity(len(items))
	for p, item := range items {
		doc.Paths.Set(p, item)
	}
	if err := loader.ResolveRefsIn(doc, nil); err != nil {
		return nil, err
	}
	return doc, nil
}

func parsePathItems(raw json.RawMessage) (map[string]*openapi3.PathItem, error) {
	var byPath map[string]json.RawMessage
	if err := json.Unmarshal(raw, &byPath); err != nil {
		return nil, fmt.Errorf("paths: %w", err)
	}
	type job struct {
		path string
		raw  json.RawMessage
	}
	jobs := make(chan job)
	var mu sync.Mutex
	items := make(map[string]*openapi3.PathItem, len(byPath))
	var firstErr error
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(1, len(byPath)/64)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				item := &openapi3.PathItem{}
				err := item.UnmarshalJSON(withoutUnused(j.raw))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("paths[%q]: %w", j.path, err)
				}
				items[j.path] = item
				mu.Unlock()
			}
		}()
	}
	for p, r := range byPath {
		jobs <- job{p, r}
	}
	close(jobs)
	wg.Wait()
	return items, firstErr
}

// unusedOperationFields are parts of an operation discovery never reads:
// kin-openapi would parse them (responses most of all, several levels of
// custom unmarshalling deep) only for them to be dropped.
var unusedOperationFields = []string{"responses", "description", "summary", "tags", "externalDocs", "callbacks", "security", "servers", "deprecated"}

var operationKeys = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}

// withoutUnused strips unusedOperationFields from a path item's operations;
// a path item it cannot read is returned as it is, for kin to report on.
func withoutUnused(raw json.RawMessage) json.RawMessage {
	var item map[string]json.RawMessage
	if json.Unmarshal(raw, &item) != nil {
		return raw
	}
	for k, v := range item {
		if !operationKeys[k] {
			continue
		}
		var op map[string]json.RawMessage
		if json.Unmarshal(v, &op) != nil {
			return raw
		}
		for _, f := range unusedOperationFields {
			delete(op, f)
		}
		b, err := json.Marshal(op)
		if err != nil {
			return raw
		}
		item[k] = b
	}
	out, err := json.Marshal(item)
	if err != nil {
		return raw
	}
	return out
}
