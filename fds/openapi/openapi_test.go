package openapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
	"github.com/gluon-gateway/gluon/functions"
)

func summary(fns []functions.Function) string {
	var b strings.Builder
	for _, f := range fns {
		fmt.Fprintf(&b, "%s %s %s", f.Name, f.REST.Method, f.REST.Path)
		for _, p := range f.REST.Parameters {
			fmt.Fprintf(&b, " %s:%s:%s:%v", p.In, p.Name, p.Type, p.Required)
		}
		b.WriteString("\n")
	}
	return b.String()
}

const wantPetstore = `addPet POST /api/pets body:age:integer:false body:name:string:true body:tag:string:false
deletePet DELETE /api/pets/{id} path:id:integer:true
findPetById GET /api/pets/{id} path:id:integer:true
findPets GET /api/pets query:limit:integer:false
get_pets_id_photo GET /api/pets/{id}/photo path:id:integer:true
`

func TestBothVariantsDiscoverTheSameFunctions(t *testing.T) {
	for name, v := range map[string]petstore.Variant{"swagger 2.0 json at /swagger.json": petstore.Swagger2, "openapi 3.1 yaml at /openapi.yaml": petstore.OpenAPI31} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(petstore.Handler(v))
			defer srv.Close()
			res, err := (&Discoverer{}).Discover(context.Background(), Target{BaseURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(res.Functions); got != wantPetstore {
				t.Fatalf("got\n%s\nwant\n%s", got, wantPetstore)
			}
			if !strings.HasSuffix(res.Source, map[petstore.Variant]string{petstore.Swagger2: "/swagger.json", petstore.OpenAPI31: "/openapi.yaml"}[v]) {
				t.Fatalf("source %s", res.Source)
			}
		})
	}
}

func TestNoDocumentIsNotMyKind(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/swagger.json" {
			w.Write([]byte(`{"hello": "not openapi"}`))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	if _, err := (&Discoverer{}).Discover(context.Background(), Target{BaseURL: srv.URL}); !errors.Is(err, ErrNoDocument) {
		t.Fatalf("got %v, want ErrNoDocument", err)
	}
}

func TestDownUpstreamIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := (&Discoverer{Timeout: time.Second}).Discover(context.Background(), Target{BaseURL: url})
	if err == nil || errors.Is(err, ErrNoDocument) {
		t.Fatalf("got %v, want a transient error", err)
	}
}

func TestHostileDocuments(t *testing.T) {
	deep := `{"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {}, "components": {"schemas": {"A": ` +
		strings.Repeat(`{"type": "object", "properties": {"a": `, 2000) + `{}` + strings.Repeat(`}}`, 2000) + `}}}`
	cyclic := `{"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}, "responses": {}}}},
		"components": {"schemas": {"A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}}, "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}}}}}`
	external := `{"openapi": "3.0.0", "info": {"title": "x", "version": "1"}, "paths": {"/a": {"$ref": "http://169.254.169.254/latest/meta-data"}}}`
	d := &Discoverer{MaxSize: 1 << 20, Timeout: 5 * time.Second}
	cases := map[string]struct {
		doc     string
		wantErr bool
	}{
		"too large":       {strings.Repeat(" ", 2<<20), true},
		"not yaml":        {"{[", true},
		"deep nesting":    {deep, true},
		"cyclic refs":     {cyclic, false},
		"external ref":    {external, false}, // never fetched: skipped, see below
		"billion laughs":  {"a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n", true},
		"swagger missing": {`{"swagger": "2.0", "paths": {"/x": {"get": {"parameters": [{"in": "body", "name": "b"}]}}}}`, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := d.Discover(context.Background(), Target{Inline: c.doc})
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, c.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadDocument) {
				t.Errorf("%v is not an ErrBadDocument: it would be retried soon", err)
			}
		})
	}
	res, _ := d.Discover(context.Background(), Target{Inline: external})
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], `paths["/a"]`) {
		t.Errorf("the external reference is not reported as skipped: %q", res.Skipped)
	}
}

// FuzzParse feeds arbitrary documents to discovery: they come from
// services Gluon does not control.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"swagger": "2.0", "basePath": "/v", "paths": {"/a/{x}": {"get": {"parameters": [{"name": "x", "in": "path", "type": "string"}]}}}}`))
	f.Add([]byte("openapi: 3.1.0\npaths:\n  /a:\n    post:\n      requestBody: {content: {application/json: {schema: {type: object, properties: {n: {type: [string, 'null']}}}}}}\n"))
	f.Add([]byte(`{"openapi": "3.0.0", "paths": {"/a": {"$ref": "#/paths/~1a"}}}`))
	f.Add([]byte(brokenRefDocument))
	f.Fuzz(func(t *testing.T, doc []byte) {
		// Parsed directly, not through Discover, whose guard would turn a
		// panic of Gluon's own reader into an error.
		p, err := ParseLimited(doc, 20)
		if err == nil && len(p.Functions) > 20 {
			t.Fatalf("%d functions", len(p.Functions))
		}
	})
}

// BenchmarkDiscover1000Operations parses a document of 1,000 operations.
func BenchmarkDiscover1000Operations(b *testing.B) {
	doc := bigDocument(500)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		fns, err := Parse(doc)
		if err != nil || len(fns) != 1000 {
			b.Fatalf("%d functions, %v", len(fns), err)
		}
	}
}

// BenchmarkDiscover20000Operations parses a document of 20,000 operations
// shaped like the 46 MB, 10,000-plus-operation document users met: each
// operation answers with an example of about 2 KB that discovery never
// reads.
func BenchmarkDiscover20000Operations(b *testing.B) {
	example := `"example": {"items": [` + strings.Repeat(`{"name": "a pet with a long description", "tag": "dog", "n": 12345},`, 30) + `{}]}`
	doc := bytes.ReplaceAll(bigDocument(10_000), []byte(`"responses": {"200": {"description": "ok"}}`),
		[]byte(`"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}, `+example+`}}}}`))
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseLimited(doc, 20_000)
		if err != nil || len(p.Functions) != 20_000 {
			b.Fatalf("%d functions, %v", len(p.Functions), err)
		}
	}
}

// BenchmarkDiscoverDense20000Operations parses 20,000 operations with
// nothing else: the cost per operation alone.
func BenchmarkDiscoverDense20000Operations(b *testing.B) {
	doc := bigDocument(10_000)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if p, err := ParseLimited(doc, 20_000); err != nil || len(p.Functions) != 20_000 {
			b.Fatalf("%d functions, %v", len(p.Functions), err)
		}
	}
}

// BenchmarkRefuse20000Operations measures refusing a document that
// declares more operations than allowed: counted before the parse.
func BenchmarkRefuse20000Operations(b *testing.B) {
	doc := bigDocument(10_000)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := Parse(doc); err == nil || !strings.Contains(err.Error(), "declares 20000 operations") {
			b.Fatal(err)
		}
	}
}

// bigDocument is an OpenAPI 3 document of n paths with a GET and a POST
// each.
func bigDocument(n int) []byte {
	var paths []string
	for i := range n {
		paths = append(paths, fmt.Sprintf(`"/r%d/{id}": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
			"get": {"operationId": "get%d", "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}], "responses": {"200": {"description": "ok"}}},
			"post": {"operationId": "post%d", "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}, "responses": {"200": {"description": "ok"}}}}`, i, i, i))
	}
	return []byte(`{"openapi": "3.0.3", "info": {"title": "big", "version": "1"}, "paths": {` + strings.Join(paths, ",") +
		`}, "components": {"schemas": {"Item": {"type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "integer"}}}}}}`)
}

// TestOperationLimit: a document that declares more operations than the
// limit is refused as a bad document, naming both numbers and the setting;
// a higher limit (Settings) admits it.
func TestOperationLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(bigDocument(25)) }))
	defer srv.Close()
	target := Target{DocURL: srv.URL + "/openapi.json"}
	_, err := (&Discoverer{MaxOperations: 20}).Discover(context.Background(), target)
	if !errors.Is(err, ErrBadDocument) || !strings.Contains(err.Error(), "declares 50 operations, more than 20 (Settings spec.discovery.openapi.maxOperations)") {
		t.Fatalf("got %v", err)
	}
	target.Limits = Limits{MaxOperations: 50}
	res, err := NewFinder(target).Discover(context.Background())
	if err != nil || len(res.Functions) != 50 {
		t.Fatalf("with the limit raised: %d functions, %v", len(res.Functions), err)
	}
	target.Limits = Limits{MaxBytes: 100}
	if _, err := NewFinder(target).Discover(context.Background()); !errors.Is(err, ErrBadDocument) || !strings.Contains(err.Error(), "more than 100 bytes") {
		t.Fatalf("a size limit: %v", err)
	}
}

// TestUnchangedDocumentsAreNotParsedAgain: polling an unchanged document
// parses it once, whether it parsed or failed, and its failure stands. A
// server that gives no validator sends it on every poll; one that gives an
// ETag or Last-Modified is asked whether it changed, and while it says no
// (304) sends nothing. A changed document is sent and parsed once.
func TestUnchangedDocumentsAreNotParsedAgain(t *testing.T) {
	for _, c := range []struct {
		validator             string
		sentBefore, sentAfter int // bodies sent over 3 polls, then over 3 more after a change
	}{{"none", 3, 6}, {"ETag", 1, 2}, {"Last-Modified", 1, 2}} {
		t.Run(c.validator, func(t *testing.T) {
			version := 1
			docs := map[int]string{
				1: `{"openapi": "3.0.0", "paths": {"/a": {"get": "not an operation"}}}`,
				2: `{"swagger": "2.0", "paths": {"/a": {"get": {"operationId": "getA"}}}}`,
			}
			sent := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tag := fmt.Sprintf(`"v%d"`, version)
				modified := time.Date(2026, 1, version, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
				switch c.validator {
				case "ETag":
					w.Header().Set("ETag", tag)
					if r.Header.Get("If-None-Match") == tag {
						w.WriteHeader(http.StatusNotModified)
						return
					}
				case "Last-Modified":
					w.Header().Set("Last-Modified", modified)
					if r.Header.Get("If-Modified-Since") == modified {
						w.WriteHeader(http.StatusNotModified)
						return
					}
				}
				sent++
				w.Write([]byte(docs[version]))
			}))
			defer srv.Close()
			d := &Discoverer{}
			discover := func() error {
				_, err := d.Discover(context.Background(), Target{DocURL: srv.URL + "/openapi.json"})
				return err
			}
			for range 3 {
				if err := discover(); !errors.Is(err, ErrBadDocument) {
					t.Fatalf("got %v, want ErrBadDocument", err)
				}
			}
			if sent != c.sentBefore || d.parses != 1 {
				t.Fatalf("an unchanged bad document sent %d times and parsed %d, want %d and 1", sent, d.parses, c.sentBefore)
			}
			version = 2
			for range 3 {
				if err := discover(); err != nil {
					t.Fatal(err)
				}
			}
			if sent != c.sentAfter || d.parses != 2 {
				t.Fatalf("after one change: sent %d times and parsed %d, want %d and 2", sent, d.parses, c.sentAfter)
			}
		})
	}
}

// brokenRefDocument made kin-openapi's resolver panic (a reference into
// the additionalProperties a schema does not have), as some published
// documents do; its other operations are well-formed.
const brokenRefDocument = `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
	"paths": {
		"/broken": {"get": {"operationId": "getBroken", "parameters": [
			{"name": "id", "in": "query", "required": true, "schema": {"type": "integer"}},
			{"name": "meta", "in": "query", "schema": {"$ref": "#/components/schemas/A/additionalProperties"}}]}},
		"/pets/{id}": {"get": {"operationId": "getPet", "parameters": [{"$ref": "#/components/parameters/Id"}, {"$ref": "#/components/parameters/Gone"}]},
			"post": {"operationId": "addPet", "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}}},
	"components": {
		"parameters": {"Id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}},
		"schemas": {"A": {"type": "object"}, "Pet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}}`

// TestUnresolvableReferencesKeepTheOperations: a document with a reference
// that cannot be resolved still gives every operation; the parameter it
// stood for has no type, and is named in what was skipped.
func TestUnresolvableReferencesKeepTheOperations(t *testing.T) {
	p, err := ParseLimited([]byte(brokenRefDocument), MaxFunctions)
	if err != nil {
		t.Fatal(err)
	}
	want := "addPet POST /pets/{id} body:name:string:true\ngetBroken GET /broken query:id:integer:true query:meta::false\ngetPet GET /pets/{id} path:id:string:true\n"
	if got := summary(p.Functions); got != want {
		t.Errorf("functions: %s", got)
	}
	if len(p.Skipped) != 2 || p.Skipped[0] != `paths["/broken"].get.parameters[1].schema: $ref "#/components/schemas/A/additionalProperties": "additionalProperties" not found` ||
		p.Skipped[1] != `paths["/pets/{id}"].get.parameters[1]: $ref "#/components/parameters/Gone": "Gone" not found` {
		t.Errorf("skipped %q", p.Skipped)
	}
	f := NewFinder(Target{Inline: brokenRefDocument})
	found, err := f.Discover(context.Background())
	if err != nil || len(found.Functions) != 3 || len(found.Skipped) != 2 {
		t.Fatalf("discovered %+v, %v", found, err)
	}
}

// BenchmarkDiscoverGitHub discovers GitHub's REST API description (13 MB,
// 1,223 operations) when GLUON_GITHUB_OPENAPI names the file; bench/fds.sh
// fetches it (npm @octokit/openapi) and sets it.
func BenchmarkDiscoverGitHub(b *testing.B) {
	path := os.Getenv("GLUON_GITHUB_OPENAPI")
	if path == "" {
		b.Skip("GLUON_GITHUB_OPENAPI is not set (bench/fds.sh sets it)")
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		fns, err := Parse(doc)
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if err != nil || len(fns) != 1223 {
			b.Fatalf("%d functions, %v", len(fns), err)
		}
		// The heap the parse holds at most: what it allocated, plus the
		// document (read before, held throughout).
		peak = max(peak, after.TotalAlloc-before.TotalAlloc+uint64(len(doc)))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
