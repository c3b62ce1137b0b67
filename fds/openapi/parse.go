// Package openapi discovers REST functions from Swagger 2.0 and OpenAPI
// 3.0/3.1 documents (kin-openapi): every operation becomes a function named
// by its operationId, else by method and path.
package openapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/functions"
)

// MaxFunctions bounds what one document may declare, by default.
const MaxFunctions = 10_000

// ErrNotOpenAPI says a document is neither Swagger 2.0 nor OpenAPI 3.x.
var ErrNotOpenAPI = errors.New("not a Swagger 2.0 or OpenAPI 3.x document")

// Parse reads a Swagger 2.0 or OpenAPI 3.x document (JSON or YAML) and
// returns its operations as functions, sorted by name; a document that
// declares more than MaxFunctions operations is refused.
func Parse(data []byte) ([]functions.Function, error) {
	p, err := ParseLimited(data, MaxFunctions)
	return p.Functions, err
}

// Parsed is what a document gave: its functions, and the parts of it that
// discovery skipped (references it could not resolve), each saying where.
type Parsed struct {
	Functions []functions.Function
	Skipped   []string
}

// ParseLimited is Parse with at most maxOperations operations: a document
// that declares more is refused before its operations are read.
func ParseLimited(data []byte, maxOperations int) (Parsed, error) {
	top, err := decodeTop(data)
	if err != nil {
		return Parsed{}, fmt.Errorf("%w: %v", ErrNotOpenAPI, err)
	}
	var swagger, openapi string
	_ = json.Unmarshal(top["swagger"], &swagger) // a version that is no string is no version
	_ = json.Unmarshal(top["openapi"], &openapi)
	switch {
	case strings.HasPrefix(swagger, "2."):
		fns, err := safeSwagger2(top, maxOperations)
		if err != nil {
			return Parsed{}, fmt.Errorf("swagger %s: %w", swagger, err)
		}
		return Parsed{Functions: fns}, nil
	case strings.HasPrefix(openapi, "3."):
		fns, skipped, err := leanV3(top, maxOperations)
		if err != nil {
			return Parsed{}, fmt.Errorf("openapi %s: %w", openapi, err)
		}
		return Parsed{Functions: fns, Skipped: skipped}, nil
	}
	return Parsed{}, ErrNotOpenAPI
}

// MaxDepth bounds how deeply a document nests: real documents stay far
// below it, and hostile ones would make the parser crawl.
const MaxDepth = 64

// decodeTop splits a document at its top level, after checking how deeply
// it nests: JSON as it is (most documents; converting or even validating
// all of it would cost more than discovery), else YAML converted to JSON.
func decodeTop(data []byte) (map[string]json.RawMessage, error) {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		if err := checkDepth(data); err != nil {
			return nil, err
		}
		if top, err := splitObject(data); err == nil {
			return top.asMap(), nil
		}
		// YAML's flow style starts with "{" too.
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	if err := checkDepth(js); err != nil {
		return nil, err
	}
	top, err := splitObject(js)
	return top.asMap(), err
}

func checkDepth(js []byte) error {
	if d := depth(js); d > MaxDepth {
		return fmt.Errorf("document nests %d levels deep, at most %d are allowed", d, MaxDepth)
	}
	return nil
}

// swagger2 reads a Swagger 2.0 document with kin-openapi, converted to
// OpenAPI 3: its operations under basePath.
func swagger2(top map[string]json.RawMessage, maxOperations int) ([]functions.Function, error) {
	paths, _ := splitPaths(top["paths"]) // kin reports paths it cannot read
	if n := countOperations(paths); n > maxOperations {
		return nil, tooManyOperations(n, maxOperations)
	}
	js, err := json.Marshal(top)
	if err != nil {
		return nil, err
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(js, &doc2); err != nil {
		return nil, err
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		return nil, err
	}
	return operations(doc, strings.TrimSuffix(doc2.BasePath, "/"), maxOperations)
}

// safeSwagger2 is swagger2 with kin-openapi's panics (hostile documents
// make its conversion dereference nil) turned into errors.
func safeSwagger2(top map[string]json.RawMessage, maxOperations int) (fns []functions.Function, err error) {
	defer func() {
		if r := recover(); r != nil {
			fns, err = nil, fmt.Errorf("kin-openapi failed: %v", r)
		}
	}()
	return swagger2(top, maxOperations)
}

func tooManyOperations(n, maxOperations int) error {
	return fmt.Errorf("document declares %d operations, more than %d (Settings spec.discovery.openapi.maxOperations)", n, maxOperations)
}

// depth returns how deeply JSON objects and arrays nest, ignoring strings.
func depth(js []byte) int {
	d, deepest, inString, escaped := 0, 0, false, false
	for _, c := range js {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			d++
			deepest = max(deepest, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return deepest
}

// countOperations counts the operations of decoded paths without
// reading them: the check on their number comes before the expensive part.
func countOperations(paths map[string]members) int {
	n := 0
	for _, item := range paths {
		for _, m := range operationMethods {
			if _, ok := item.get(m); ok {
				n++
			}
		}
	}
	return n
}

func operations(doc *openapi3.T, prefix string, maxOperations int) ([]functions.Function, error) {
	if doc.Paths == nil {
		return nil, nil
	}
	byName := map[string]functions.Function{}
	paths := doc.Paths.Map()
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, p := range keys {
		item := paths[p]
		if item == nil {
			continue
		}
		ops := item.Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			if len(byName) >= maxOperations {
				return nil, fmt.Errorf("document declares more than %d operations", maxOperations)
			}
			f := function(prefix, p, m, item, ops[m])
			if _, dup := byName[f.Name]; dup {
				f.Name = functionName("", m, p) // an operationId used twice: fall back for the second
			}
			byName[f.Name] = f
		}
	}
	out := make([]functions.Function, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func function(prefix, path, method string, item *openapi3.PathItem, op *openapi3.Operation) functions.Function {
	rest := &functions.RESTFunction{Method: method, Path: prefix + path}
	seen := map[string]bool{}
	for _, ps := range []openapi3.Parameters{op.Parameters, item.Parameters} { // the operation's own win
		for _, ref := range ps {
			p := ref.Value
			if p == nil || seen[p.In+"/"+p.Name] {
				continue
			}
			seen[p.In+"/"+p.Name] = true
			switch p.In {
			case "path", "query", "header":
				rest.Parameters = append(rest.Parameters, functions.Parameter{Name: p.Name, In: functions.ParameterIn(p.In), Required: p.Required,
					Type: schemaType(p.Schema), Description: cmp.Or(p.Description, schemaDescription(p.Schema))})
			}
		}
	}
	rest.BodyContentType, rest.Parameters = bodyParameters(op, rest.Parameters)
	sort.SliceStable(rest.Parameters, func(i, j int) bool { return rest.Parameters[i].In < rest.Parameters[j].In })
	rest.Summary, rest.Description = op.Summary, op.Description
	return functions.Function{Name: functionName(op.OperationID, method, path), Kind: functions.KindREST, REST: rest}
}

// bodyParameters adds the properties of a JSON request body as parameters.
func bodyParameters(op *openapi3.Operation, params []functions.Parameter) (string, []functions.Parameter) {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return "", params
	}
	content := op.RequestBody.Value.Content
	mt := content.Get("application/json")
	if mt == nil {
		types := make([]string, 0, len(content))
		for ct := range content {
			types = append(types, ct)
		}
		sort.Strings(types)
		if len(types) == 0 {
			return "", params
		}
		return types[0], params // not JSON: the body passes through as it is
	}
	if mt.Schema == nil || mt.Schema.Value == nil {
		return "application/json", params
	}
	s := mt.Schema.Value
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	for _, n := range names {
		params = append(params, functions.Parameter{Name: n, In: functions.InBody, Required: required[n],
			Type: schemaType(s.Properties[n]), Description: schemaDescription(s.Properties[n])})
	}
	return "application/json", params
}

func schemaType(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil || ref.Value.Type == nil {
		return ""
	}
	for _, t := range ref.Value.Type.Slice() {
		if t != "null" {
			return t // 3.1 allows ["string", "null"]
		}
	}
	return ""
}

func schemaDescription(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return ""
	}
	return ref.Value.Description
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9]+`)

// functionName is the operationId, else e.g. "get_api_pets_id".
func functionName(operationID, method, path string) string {
	if operationID != "" {
		return operationID
	}
	return strings.ToLower(method) + "_" + strings.Trim(nonName.ReplaceAllString(path, "_"), "_")
}
