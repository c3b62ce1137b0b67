// Package petstore is a small pet store service that serves its own
// OpenAPI document, for function discovery tests and the demo. One variant
// serves Swagger 2.0 JSON at a path Gloo probes (/swagger.json), the other
// OpenAPI 3.1 YAML at a path Gloo misses (/openapi.yaml).
package petstore

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
)

//go:embed swagger.json
var swaggerJSON []byte

//go:embed openapi.yaml
var openAPIYAML []byte

// Variant says which document the service serves, and where.
type Variant int

// The variants.
const (
	Swagger2  Variant = iota // /swagger.json
	OpenAPI31                // /openapi.yaml
)

// Pet is one pet.
type Pet struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Tag  string `json:"tag,omitempty"`
	Age  int    `json:"age,omitempty"`
}

// Store is the service's state.
type Store struct {
	mu   sync.Mutex
	pets map[int]Pet
	next int
}

// Handler returns the service: GET/POST /api/pets, GET/DELETE
// /api/pets/{id}, GET /api/pets/{id}/photo (not JSON), and its document.
func Handler(v Variant) http.Handler {
	s := &Store{pets: map[int]Pet{1: {ID: 1, Name: "Rex", Tag: "dog"}, 2: {ID: 2, Name: "Tom", Tag: "cat"}}, next: 3}
	mux := http.NewServeMux()
	if v == Swagger2 {
		mux.HandleFunc("GET /swagger.json", serveDoc("application/json", swaggerJSON))
	} else {
		mux.HandleFunc("GET /openapi.yaml", serveDoc("application/yaml", openAPIYAML))
	}
	mux.HandleFunc("GET /api/pets", s.list)
	mux.HandleFunc("POST /api/pets", s.add)
	mux.HandleFunc("GET /api/pets/{id}", s.get)
	mux.HandleFunc("DELETE /api/pets/{id}", s.remove)
	mux.HandleFunc("GET /api/pets/{id}/photo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\nnot-json-" + r.PathValue("id")))
	})
	return mux
}

func serveDoc(contentType string, doc []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(doc)
	}
}

func (s *Store) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	pets := make([]Pet, 0, len(s.pets))
	for _, p := range s.pets {
		pets = append(pets, p)
	}
	s.mu.Unlock()
	sort.Slice(pets, func(i, j int) bool { return pets[i].ID < pets[j].ID })
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n >= 0 && n < len(pets) {
		pets = pets[:n]
	}
	writeJSON(w, http.StatusOK, pets)
}

func (s *Store) get(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	p, ok := s.pets[id]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no pet %q", r.PathValue("id"))})
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Store) add(w http.ResponseWriter, r *http.Request) {
	var p Pet
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&p); err != nil || p.Name == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want a JSON pet with a name"})
		return
	}
	s.mu.Lock()
	p.ID, s.next = s.next, s.next+1
	s.pets[p.ID] = p
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, p)
}

func (s *Store) remove(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	s.mu.Lock()
	delete(s.pets, id)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// No trailing newline (json.Encoder adds one): the body is spliced
	// into templates, such as the demo's {"created": {{ body() }}, ...}.
	_, _ = w.Write(b) // the client may have gone; nothing to do
}
