package openapi

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadV3 loads an OpenAPI 3 document with kin-openapi, parsing its path
// items on every core: kin's nested unmarshalling re-validates each subtree,
// which makes large documents (thousands of operations) slow on one core.
// The path items are then resolved against the document's components by
// kin's loader, as a plain load would.
//
// Published documents hold references kin cannot resolve, or that make it
// panic (a $ref into a schema's additionalProperties that is not there).
// The operations are still there: then each path item is resolved on its
// own, and one that fails keeps what it holds inline; skipped says which
// did, and why.
func loadV3(js []byte) (doc *openapi3.T, skipped []string, err error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		return nil, nil, err
	}
	rawPaths := top["paths"]
	top["paths"] = json.RawMessage(`{}`)
	rest, err := json.Marshal(top)
	if err != nil {
		return nil, nil, err
	}
	if doc, err = strictLoadV3(rest, rawPaths); err == nil {
		return doc, nil, nil
	}
	return lenientLoadV3(rest, rawPaths, err)
}

// strictLoadV3 loads and resolves the whole document, failing at the
// first reference it cannot resolve (or that makes kin panic).
func strictLoadV3(rest, rawPaths json.RawMessage) (doc *openapi3.T, err error) {
	loader := newLoader()
	if err := safely(func() error { doc, err = loader.LoadFromData(rest); return err }); err != nil {
		return nil, err
	}
	if err := setPaths(doc, rawPaths); err != nil {
		return nil, err
	}
	if err := safely(func() error { return loader.ResolveRefsIn(doc, nil) }); err != nil {
		return nil, err
	}
	return doc, nil
}

// lenientLoadV3 loads the document again without resolving it, then
// resolves its components and each path item apart. A document that does
// not read at all (no references involved) still fails with strictErr.
func lenientLoadV3(rest, rawPaths json.RawMessage, strictErr error) (*openapi3.T, []string, error) {
	doc := &openapi3.T{}
	if err := doc.UnmarshalJSON(rest); err != nil {
		return nil, nil, strictErr
	}
	if err := setPaths(doc, rawPaths); err != nil {
		return nil, nil, strictErr
	}
	var skipped []string
	items := doc.Paths
	doc.Paths = openapi3.NewPaths()
	if err := safely(func() error { return newLoader().ResolveRefsIn(doc, nil) }); err != nil {
		skipped = append(skipped, fmt.Sprintf("components: %v", err))
	}
	for _, p := range items.InMatchingOrder() {
		item := items.Value(p)
		one := *doc
		one.Paths = openapi3.NewPaths(openapi3.WithPath(p, item))
		if err := safely(func() error { return newLoader().ResolveRefsIn(&one, nil) }); err != nil {
			skipped = append(skipped, fmt.Sprintf("paths[%q]: %v", p, err))
		}
	}
	doc.Paths = items
	sort.Strings(skipped)
	return doc, skipped, nil
}

func newLoader() *openapi3.Loader {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false // documents never make us fetch anything
	return loader
}

// setPaths parses the document's path items into it.
func setPaths(doc *openapi3.T, rawPaths json.RawMessage) error {
	if len(rawPaths) == 0 || string(rawPaths) == "null" {
		return nil
	}
	items, err := parsePathItems(rawPaths)
	if err != nil {
		return err
	}
	doc.Paths = openapi3.NewPathsWithCapacity(len(items))
	for p, item := range items {
		doc.Paths.Set(p, item)
	}
	return nil
}

// safely runs f, turning a panic into an error.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kin-openapi failed: %v", r)
		}
	}()
	return f()
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
