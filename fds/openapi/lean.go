package openapi

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
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

// loc says where in the document a part is, for what was skipped; it is
// spelled out only then.
type loc struct {
	item   string // `paths["/a"]`
	method string // "get"; "" for the path item's own parameters
	param  int    // the parameter's index; -1 for the request body
	schema bool   // the parameter's schema, not the parameter
	prop   string // a body property, "" for the body itself
}

func (l loc) String() string {
	at := l.item
	if l.method != "" {
		at += "." + l.method
	}
	if l.param >= 0 {
		at = fmt.Sprintf("%s.parameters[%d]", at, l.param)
		if l.schema {
			at += ".schema"
		}
		return at
	}
	at += ".requestBody"
	if l.prop != "" {
		at += fmt.Sprintf(`.content["application/json"].schema.properties[%q]`, l.prop)
	}
	return at
}

// maxRefHops bounds a chain of references ($ref to a $ref…), cycles too.
const maxRefHops = 32

// leanDoc is an OpenAPI 3 document as discovery reads it.
type leanDoc struct {
	top map[string]json.RawMessage
	// objects caches the objects decoded while resolving references, by
	// JSON pointer: a components section is decoded once, not once per
	// reference into it.
	objects map[string]map[string]json.RawMessage
	// schemas and parameters are what references resolved to, by
	// reference: shared components are read once, not once per use.
	schemas    map[string]leanSchema
	parameters map[string]leanParameter
	skipped    []string
}

type leanOperation struct {
	OperationID, Summary, Description string
	Parameters                        []json.RawMessage
	RequestBody                       json.RawMessage
}

type leanParameter struct {
	Name, In, Description string
	Required              bool
	Schema                json.RawMessage
}

type leanSchema struct {
	Type        json.RawMessage
	Description string
	Properties  members
	Required    []string
}

// operationMethods are the members of a path item that are operations,
// sorted.
var operationMethods = []string{"delete", "get", "head", "options", "patch", "post", "put", "trace"}

// stringer is a fixed location.
type stringer string

func (s stringer) String() string { return string(s) }

// leanV3 reads the functions of an OpenAPI 3 document, decoded at its top
// level, and what it skipped. A document that declares more than
// maxOperations operations is refused before any is read.
func leanV3(top map[string]json.RawMessage, maxOperations int) ([]functions.Function, []string, error) {
	d := &leanDoc{top: top, objects: map[string]map[string]json.RawMessage{},
		schemas: map[string]leanSchema{}, parameters: map[string]leanParameter{}}
	paths, err := splitPaths(d.top["paths"])
	if err != nil {
		return nil, nil, err
	}
	if n := countOperations(paths); n > maxOperations {
		return nil, nil, tooManyOperations(n, maxOperations)
	}
	prefix := d.serverPath()
	byName := map[string]functions.Function{}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		item, where := d.pathItem(p, paths[p])
		var shared []json.RawMessage
		if raw := item.value("parameters"); len(raw) > 0 {
			if shared, err = splitArray(raw); err != nil {
				return nil, nil, fmt.Errorf("%s.parameters: %w", where, err)
			}
		}
		for _, m := range operationMethods {
			raw, ok := item.get(m)
			if !ok {
				continue
			}
			op, err := decodeOperation(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("%s.%s: %w", where, m, err)
			}
			if len(byName) >= maxOperations {
				return nil, nil, fmt.Errorf("document declares more than %d operations", maxOperations)
			}
			f := d.function(prefix, p, m, where, op, shared)
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
func (d *leanDoc) pathItem(p string, item members) (members, string) {
	where := fmt.Sprintf("paths[%q]", p)
	ref, isRef, err := refOf(item)
	if err != nil || !isRef || ref == "" {
		return item, where // a $ref that is no string is no reference
	}
	raw, err := d.follow(ref)
	var target members
	if err == nil {
		target, err = splitObject(raw)
	}
	if err != nil {
		d.skip(stringer(where), err)
		return nil, where
	}
	return target, where
}

func (d *leanDoc) function(prefix, path, method, item string, op leanOperation, shared []json.RawMessage) functions.Function {
	rest := &functions.RESTFunction{Method: strings.ToUpper(method), Path: prefix + path}
	var seen []leanParameter
	for i, raw := range slices.Concat(op.Parameters, shared) { // the operation's own win
		at := loc{item: item, method: method, param: i}
		if i >= len(op.Parameters) {
			at = loc{item: item, param: i - len(op.Parameters)}
		}
		p, ok := d.parameter(at, raw)
		if !ok || slices.ContainsFunc(seen, func(q leanParameter) bool { return q.In == p.In && q.Name == p.Name }) {
			continue
		}
		seen = append(seen, p)
		switch p.In {
		case "path", "query", "header":
			typ, desc := d.schemaType(loc{item: at.item, method: at.method, param: at.param, schema: true}, p.Schema)
			rest.Parameters = append(rest.Parameters, functions.Parameter{Name: p.Name, In: functions.ParameterIn(p.In), Required: p.Required,
				Type: typ, Description: cmp.Or(p.Description, desc)})
		}
	}
	rest.BodyContentType, rest.Parameters = d.bodyParameters(loc{item: item, method: method, param: -1}, op.RequestBody, rest.Parameters)
	sort.SliceStable(rest.Parameters, func(i, j int) bool { return rest.Parameters[i].In < rest.Parameters[j].In })
	rest.Summary, rest.Description = op.Summary, op.Description
	return functions.Function{Name: functionName(op.OperationID, rest.Method, path), Kind: functions.KindREST, REST: rest}
}

// parameter reads a parameter, following references; false when it
// cannot be read (skipped).
func (d *leanDoc) parameter(where loc, raw json.RawMessage) (leanParameter, bool) {
	return resolve(d, where, raw, d.parameters, decodeParameter)
}

// resolve reads an object that may be a reference (to a reference…):
// decode reads the object the chain ends at. What a reference resolved to
// is kept in cache (when there is one). False when it cannot be read
// (skipped).
func resolve[T any](d *leanDoc, where loc, raw json.RawMessage, cache map[string]T, decode func(members) (T, error)) (T, bool) {
	var none T
	var first string // the reference the object came through, if any
	for hops := 0; ; hops++ {
		m, err := splitObject(raw)
		var ref string
		var isRef bool
		if err == nil {
			ref, isRef, err = refOf(m)
		}
		if err == nil && !isRef {
			v, err := decode(m)
			if err != nil {
				d.skip(where, err)
				return none, false
			}
			if first != "" && cache != nil {
				cache[first] = v
			}
			return v, true
		}
		if err == nil && hops == 0 {
			if v, ok := cache[ref]; ok {
				return v, true
			}
			first = ref
		}
		if err == nil {
			raw, err = d.followHop(ref, hops)
		}
		if err != nil {
			d.skip(where, err)
			return none, false
		}
	}
}

// decodeParameter reads what discovery needs of a parameter.
func decodeParameter(m members) (leanParameter, error) {
	p := leanParameter{Schema: m.value("schema")}
	var err error
	if v, ok := m.get("name"); ok {
		if p.Name, err = decodeString(v); err != nil {
			return p, fmt.Errorf("name: %w", err)
		}
	}
	if v, ok := m.get("in"); ok {
		if p.In, err = decodeString(v); err != nil {
			return p, fmt.Errorf("in: %w", err)
		}
	}
	if p.Description, err = optionalString(m, "description"); err != nil {
		return p, err
	}
	if v, ok := m.get("required"); ok {
		if err := json.Unmarshal(v, &p.Required); err != nil {
			return p, fmt.Errorf("required: %w", err)
		}
	}
	return p, nil
}

// bodyParameters adds the properties of a JSON request body as parameters,
// and says the body's media type: JSON, else the first (sorted).
func (d *leanDoc) bodyParameters(where loc, raw json.RawMessage, params []functions.Parameter) (string, []functions.Parameter) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", params
	}
	body, ok := resolve(d, where, raw, nil, func(m members) (members, error) { return m, nil })
	if !ok {
		return "", params
	}
	content, err := splitObject(body.value("content"))
	if err != nil {
		return "", params // no content: no body to describe
	}
	rawMT, ok := jsonMediaType(content)
	if !ok {
		types := content.sortedKeys()
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
	s, ok := d.schema(where, mt.value("schema"))
	if !ok {
		return "application/json", params
	}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	for _, n := range s.Properties.sortedKeys() {
		typ, desc := d.schemaType(loc{item: where.item, method: where.method, param: -1, prop: n}, s.Properties.value(n))
		params = append(params, functions.Parameter{Name: n, In: functions.InBody, Required: required[n], Type: typ, Description: desc})
	}
	return "application/json", params
}

// jsonMediaType is a body's JSON media type, as kin-openapi's
// Content.Get("application/json") finds it: exactly, else application/*,
// else */*.
func jsonMediaType(content members) (json.RawMessage, bool) {
	for _, mt := range []string{"application/json", "application/*", "*/*"} {
		if v, ok := content.get(mt); ok {
			return v, true
		}
	}
	return nil, false
}

// schema reads a schema's top level, following references; false when
// there is none or it cannot be read (skipped).
func (d *leanDoc) schema(where loc, raw json.RawMessage) (leanSchema, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return leanSchema{}, false
	}
	return resolve(d, where, raw, d.schemas, decodeSchema)
}

// refOf is an object's $ref, if it has one.
func refOf(m members) (string, bool, error) {
	raw, ok := m.get("$ref")
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
func decodeSchema(m members) (leanSchema, error) {
	s := leanSchema{Type: m.value("type")}
	var err error
	if s.Description, err = optionalString(m, "description"); err != nil {
		return s, err
	}
	if raw, ok := m.get("properties"); ok {
		props, err := splitObject(raw)
		if err != nil {
			return s, fmt.Errorf("properties: %w", err)
		}
		s.Properties = props
	}
	if raw, ok := m.get("required"); ok {
		if err := json.Unmarshal(raw, &s.Required); err != nil {
			return s, fmt.Errorf("required: %w", err)
		}
	}
	return s, nil
}

// splitPaths splits the paths object and each path item in it.
func splitPaths(raw json.RawMessage) (map[string]members, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	items, err := splitObject(raw)
	if err != nil {
		return nil, fmt.Errorf("paths: %w", err)
	}
	out := make(map[string]members, len(items))
	for _, item := range items {
		if out[item.name()], err = splitObject(item.value); err != nil {
			return nil, fmt.Errorf("paths[%q]: %w", item.name(), err)
		}
	}
	return out, nil
}

// decodeOperation reads what discovery needs of an operation; the rest
// (responses above all) is not read.
func decodeOperation(raw json.RawMessage) (leanOperation, error) {
	var op leanOperation
	m, err := splitObject(raw)
	if err != nil {
		return op, err
	}
	if op.OperationID, err = optionalString(m, "operationId"); err != nil {
		return op, err
	}
	if op.Summary, err = optionalString(m, "summary"); err != nil {
		return op, err
	}
	if op.Description, err = optionalString(m, "description"); err != nil {
		return op, err
	}
	if v, ok := m.get("parameters"); ok {
		if op.Parameters, err = splitArray(v); err != nil {
			return op, fmt.Errorf("parameters: %w", err)
		}
	}
	op.RequestBody = m.value("requestBody")
	return op, nil
}

// optionalString is member key of m, a string; "" when m has none.
func optionalString(m members, key string) (string, error) {
	v, ok := m.get(key)
	if !ok {
		return "", nil
	}
	s, err := decodeString(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return s, nil
}

// schemaType is a schema's JSON type (its type, or the first of its types
// that is not "null": 3.1 allows ["string", "null"]; "" when it has none)
// and its description.
func (d *leanDoc) schemaType(where loc, raw json.RawMessage) (string, string) {
	s, ok := d.schema(where, raw)
	if !ok || len(s.Type) == 0 {
		return "", s.Description
	}
	if one, err := decodeString(s.Type); err == nil {
		return one, s.Description
	}
	var many []string
	_ = json.Unmarshal(s.Type, &many) // a type that is neither is no type
	for _, t := range many {
		if t != "null" {
			return t, s.Description
		}
	}
	return "", s.Description
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
	m, err := splitObject(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not an object", pointer)
	}
	obj := m.asMap()
	d.objects[pointer] = obj
	return obj, nil
}

func (d *leanDoc) skip(where fmt.Stringer, err error) {
	d.skipped = append(d.skipped, where.String()+": "+err.Error())
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
