package openapi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/gluon-gateway/gluon/functions"
)

// OpenAPI 3 documents are read lazily: functions need each operation's
// method, path, operationId, parameters and request body (its media types,
// and its JSON schema's top-level properties), nothing else. So only those
// are decoded, and a reference is resolved when, and as far as, one of them
// needs it. Published documents are large (GitHub's: 13 MB, mostly shared
// schemas no function reads) and some hold references that cannot be
// resolved; a reference that fails costs only what it stood for.

// maxRefHops bounds a chain of references ($ref to a $ref…), cycles too.
const maxRefHops = 32

// leanDoc is an OpenAPI 3 document as discovery reads it.
type leanDoc struct {
	top map[string]json.RawMessage
	// objects caches the objects decoded while resolving references, by
	// JSON pointer: a components section is decoded once, not once per
	// reference into it.
	objects map[string]map[string]json.RawMessage
	skipped []string
}

type leanOperation struct {
	OperationID string
	Parameters  []json.RawMessage
	RequestBody json.RawMessage
}

type leanParameter struct {
	Ref      string          `json:"$ref"`
	Name     string          `json:"name"`
	In       string          `json:"in"`
	Required bool            `json:"required"`
	Schema   json.RawMessage `json:"schema"`
}

type leanSchema struct {
	Type       json.RawMessage
	Properties map[string]json.RawMessage
	Required   []string
}

var operationKeys = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}

// leanV3 reads the functions of an OpenAPI 3 document, decoded at its top
// level, and what it skipped. A document that declares more than
// maxOperations operations is refused before any is read.
func leanV3(top map[string]json.RawMessage, maxOperations int) ([]functions.Function, []string, error) {
	d := &leanDoc{top: top, objects: map[string]map[string]json.RawMessage{}}
	paths, err := splitPaths(d.top["paths"])
	if err != nil {
		return nil, nil, err
	}
	if n := countOperations(paths); n > maxOperations {
		return nil, nil, tooManyOperations(n, maxOperations)
	}
	prefix := d.serverPath()
	byName := map[string]functions.Function{}
	for _, p := range sortedKeys(paths) {
		item, where := d.pathItem(p, paths[p])
		var shared []json.RawMessage
		if raw := item["parameters"]; len(raw) > 0 {
			if err := json.Unmarshal(raw, &shared); err != nil {
				return nil, nil, fmt.Errorf("%s.parameters: %w", where, err)
			}
		}
		for _, m := range sortedKeys(item) {
			if !operationKeys[m] {
				continue
			}
			op, err := decodeOperation(item[m])
			if err != nil {
				return nil, nil, fmt.Errorf("%s.%s: %w", where, m, err)
			}
			if len(byName) >= maxOperations {
				return nil, nil, fmt.Errorf("document declares more than %d operations", maxOperations)
			}
			f := d.function(prefix, p, strings.ToUpper(m), where+"."+m, op, shared)
			if _, dup := byName[f.Name]; dup {
				f.Name = functionName("", strings.ToUpper(m), p) // an operationId used twice: fall back for the second
			}
			byName[f.Name] = f
		}
	}
	out := make([]functions.Function, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	sort.Strings(d.skipped)
	return out, d.skipped, nil
}

// pathItem is a path item, followed if it is a reference (one that cannot
// be followed leaves the path without operations, and is skipped).
func (d *leanDoc) pathItem(p string, item map[string]json.RawMessage) (map[string]json.RawMessage, string) {
	where := fmt.Sprintf("paths[%q]", p)
	var ref string
	if raw, ok := item["$ref"]; !ok || json.Unmarshal(raw, &ref) != nil || ref == "" {
		return item, where
	}
	raw, err := d.follow(ref)
	var target map[string]json.RawMessage
	if err == nil {
		target, err = splitObject(raw)
	}
	if err != nil {
		d.skip(where, err)
		return nil, where
	}
	return target, where
}

func (d *leanDoc) function(prefix, path, method, where string, op leanOperation, shared []json.RawMessage) functions.Function {
	rest := &functions.RESTFunction{Method: method, Path: prefix + path}
	seen := map[string]bool{}
	for i, raw := range append(append([]json.RawMessage{}, op.Parameters...), shared...) { // the operation's own win
		at := fmt.Sprintf("%s.parameters[%d]", where, i)
		if i >= len(op.Parameters) {
			at = fmt.Sprintf("%s.parameters[%d]", strings.TrimSuffix(where, "."+strings.ToLower(method)), i-len(op.Parameters))
		}
		p, ok := d.parameter(at, raw)
		if !ok || seen[p.In+"/"+p.Name] {
			continue
		}
		seen[p.In+"/"+p.Name] = true
		switch p.In {
		case "path", "query", "header":
			rest.Parameters = append(rest.Parameters, functions.Parameter{Name: p.Name, In: functions.ParameterIn(p.In), Required: p.Required, Type: d.schemaType(at+".schema", p.Schema)})
		}
	}
	rest.BodyContentType, rest.Parameters = d.bodyParameters(where+".requestBody", op.RequestBody, rest.Parameters)
	sort.SliceStable(rest.Parameters, func(i, j int) bool { return rest.Parameters[i].In < rest.Parameters[j].In })
	return functions.Function{Name: functionName(op.OperationID, method, path), Kind: functions.KindREST, REST: rest}
}

// parameter reads a parameter, following references; false when it
// cannot be read (skipped).
func (d *leanDoc) parameter(where string, raw json.RawMessage) (leanParameter, bool) {
	var p leanParameter
	for hops := 0; ; hops++ {
		if err := json.Unmarshal(raw, &p); err != nil {
			d.skip(where, err)
			return p, false
		}
		if p.Ref == "" {
			return p, true
		}
		next, err := d.followHop(p.Ref, hops)
		if err != nil {
			d.skip(where, err)
			return p, false
		}
		raw, p = next, leanParameter{}
	}
}

// bodyParameters adds the properties of a JSON request body as parameters,
// and says the body's media type: JSON, else the first (sorted).
func (d *leanDoc) bodyParameters(where string, raw json.RawMessage, params []functions.Parameter) (string, []functions.Parameter) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", params
	}
	var body map[string]json.RawMessage
	for hops := 0; ; hops++ {
		var err error
		if body, err = splitObject(raw); err != nil {
			d.skip(where, err)
			return "", params
		}
		ref, isRef, err := refOf(body)
		if err == nil && !isRef {
			break
		}
		if err == nil {
			raw, err = d.followHop(ref, hops)
		}
		if err != nil {
			d.skip(where, err)
			return "", params
		}
	}
	content, err := splitObject(body["content"])
	if err != nil {
		return "", params // no content: no body to describe
	}
	rawMT, ok := jsonMediaType(content)
	if !ok {
		types := sortedKeys(content)
		if len(types) == 0 {
			return "", params
		}
		return types[0], params // not JSON: the body passes through as it is
	}
	mt, err := splitObject(rawMT)
	if err != nil {
		d.skip(where, err)
		return "application/json", params
	}
	s, ok := d.schema(where+`.content["application/json"].schema`, mt["schema"])
	if !ok {
		return "application/json", params
	}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	for _, n := range sortedKeys(s.Properties) {
		params = append(params, functions.Parameter{Name: n, In: functions.InBody, Required: required[n],
			Type: d.schemaType(fmt.Sprintf("%s.properties[%q]", where, n), s.Properties[n])})
	}
	return "application/json", params
}

// jsonMediaType is a body's JSON media type, as kin-openapi's
// Content.Get("application/json") finds it: exactly, else application/*,
// else */*.
func jsonMediaType[M any](content map[string]M) (M, bool) {
	for _, mt := range []string{"application/json", "application/*", "*/*"} {
		if v, ok := content[mt]; ok {
			return v, true
		}
	}
	var none M
	return none, false
}

// schema reads a schema's top level, following references; false when
// there is none or it cannot be read (skipped).
func (d *leanDoc) schema(where string, raw json.RawMessage) (leanSchema, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return leanSchema{}, false
	}
	for hops := 0; ; hops++ {
		members, err := splitObject(raw)
		if err != nil {
			d.skip(where, err)
			return leanSchema{}, false
		}
		ref, isRef, err := refOf(members)
		if err == nil && !isRef {
			s, err := decodeSchema(members)
			if err != nil {
				d.skip(where, err)
			}
			return s, err == nil
		}
		if err == nil {
			raw, err = d.followHop(ref, hops)
		}
		if err != nil {
			d.skip(where, err)
			return leanSchema{}, false
		}
	}
}

// refOf is an object's $ref, if it has one.
func refOf(members map[string]json.RawMessage) (string, bool, error) {
	raw, ok := members["$ref"]
	if !ok {
		return "", false, nil
	}
	var ref string
	if err := json.Unmarshal(raw, &ref); err != nil {
		return "", false, fmt.Errorf("$ref: %w", err)
	}
	return ref, true, nil
}

// decodeSchema reads what discovery needs of a schema: its type, its
// properties (each read when needed) and which are required.
func decodeSchema(members map[string]json.RawMessage) (leanSchema, error) {
	s := leanSchema{Type: members["type"]}
	if raw, ok := members["properties"]; ok {
		props, err := splitObject(raw)
		if err != nil {
			return s, fmt.Errorf("properties: %w", err)
		}
		s.Properties = props
	}
	if raw, ok := members["required"]; ok {
		if err := json.Unmarshal(raw, &s.Required); err != nil {
			return s, fmt.Errorf("required: %w", err)
		}
	}
	return s, nil
}

// splitPaths splits the paths object and each path item in it.
func splitPaths(raw json.RawMessage) (map[string]map[string]json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	items, err := splitObject(raw)
	if err != nil {
		return nil, fmt.Errorf("paths: %w", err)
	}
	out := make(map[string]map[string]json.RawMessage, len(items))
	for p, item := range items {
		if out[p], err = splitObject(item); err != nil {
			return nil, fmt.Errorf("paths[%q]: %w", p, err)
		}
	}
	return out, nil
}

// decodeOperation reads what discovery needs of an operation; the rest
// (responses above all) is not read.
func decodeOperation(raw json.RawMessage) (leanOperation, error) {
	var op leanOperation
	members, err := splitObject(raw)
	if err != nil {
		return op, err
	}
	if v, ok := members["operationId"]; ok {
		if err := json.Unmarshal(v, &op.OperationID); err != nil {
			return op, fmt.Errorf("operationId: %w", err)
		}
	}
	if v, ok := members["parameters"]; ok {
		if err := json.Unmarshal(v, &op.Parameters); err != nil {
			return op, fmt.Errorf("parameters: %w", err)
		}
	}
	op.RequestBody = members["requestBody"]
	return op, nil
}

// schemaType is a schema's JSON type: its type, or the first of its types
// that is not "null" (3.1 allows ["string", "null"]); "" when it has none.
func (d *leanDoc) schemaType(where string, raw json.RawMessage) string {
	s, ok := d.schema(where, raw)
	if !ok || len(s.Type) == 0 {
		return ""
	}
	var one string
	if json.Unmarshal(s.Type, &one) == nil {
		return one
	}
	var many []string
	_ = json.Unmarshal(s.Type, &many) // a type that is neither is no type
	for _, t := range many {
		if t != "null" {
			return t
		}
	}
	return ""
}

// followHop follows one more reference of a chain, refusing a chain that
// is too long (a cycle, or a hostile document).
func (d *leanDoc) followHop(ref string, hops int) (json.RawMessage, error) {
	if hops >= maxRefHops {
		return nil, fmt.Errorf("$ref %q: a chain of more than %d references", ref, maxRefHops)
	}
	return d.follow(ref)
}

// follow resolves a reference within the document (a JSON pointer after
// "#"); a reference to another document is never fetched.
func (d *leanDoc) follow(ref string) (json.RawMessage, error) {
	pointer, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("$ref %q: references to other documents are not followed", ref)
	}
	if pointer == "" || pointer[0] != '/' {
		return nil, fmt.Errorf("$ref %q: not a JSON pointer", ref)
	}
	parts := strings.Split(pointer[1:], "/")
	obj, at := d.top, ""
	for i, part := range parts {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		if unescaped, err := url.PathUnescape(part); err == nil {
			part = unescaped
		}
		raw, ok := obj[part]
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q not found", ref, part)
		}
		if i == len(parts)-1 {
			return raw, nil
		}
		at += "/" + part
		next, err := d.object(at, raw)
		if err != nil {
			return nil, fmt.Errorf("$ref %q: %w", ref, err)
		}
		obj = next
	}
	return nil, fmt.Errorf("$ref %q: not found", ref)
}

// object decodes the object at a JSON pointer once.
func (d *leanDoc) object(pointer string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	if obj, ok := d.objects[pointer]; ok {
		return obj, nil
	}
	obj, err := splitObject(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not an object", pointer)
	}
	d.objects[pointer] = obj
	return obj, nil
}

func (d *leanDoc) skip(where string, err error) {
	d.skipped = append(d.skipped, where+": "+err.Error())
}

// serverPath is the path part of the first server URL ("/api" from
// "http://petstore/api" or "/api").
func (d *leanDoc) serverPath() string {
	var servers []struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(d.top["servers"], &servers) != nil || len(servers) == 0 {
		return ""
	}
	u, err := url.Parse(servers[0].URL)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
