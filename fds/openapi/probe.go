package openapi

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gluon-gateway/gluon/functions"
)

// ProbePaths are tried in order on an upstream that names no document:
// Gloo's paths first, then the ones Gloo misses.
var ProbePaths = []string{
	"/swagger.json", "/swagger/docs/v1", "/swagger/docs/v2", "/v1/swagger", "/v2/swagger",
	"/openapi.json", "/openapi.yaml", "/openapi.yml", "/v3/api-docs", "/v3/api-docs.yaml",
	"/swagger/v1/swagger.json", "/api-docs", "/swagger.yaml", "/api-docs.yaml",
}

// ErrNoDocument means no probed path served an OpenAPI document: the
// upstream is "not my kind", and is not probed again until it changes.
var ErrNoDocument = errors.New("no OpenAPI document found")

// ErrBadDocument marks a document that was found but cannot be used:
// broken, hostile or too large. Asking again soon will not help; an
// unchanged document is not parsed again.
var ErrBadDocument = errors.New("unusable OpenAPI document")

// badDocument keeps the error's own message and matches ErrBadDocument.
type badDocument struct{ error }

func (badDocument) Is(target error) bool { return target == ErrBadDocument }
func (b badDocument) Unwrap() error      { return b.error }

// Discoverer fetches and parses documents within bounds. It remembers what
// the documents it parsed gave, by their SHA-256, so that polling an
// unchanged document costs a fetch, not a parse: a hostile document that
// takes seconds to refuse is refused once.
type Discoverer struct {
	Client *http.Client
	// MaxSize bounds a document (default 32 MiB).
	MaxSize int64
	// MaxOperations bounds the operations it declares (default
	// MaxFunctions).
	MaxOperations int
	// Timeout bounds each fetch and each parse (default 10 s).
	Timeout time.Duration

	mu     sync.Mutex
	parsed map[[sha256.Size]byte]parseResult
	parses int // how many documents were parsed, for tests
	// validators are, by URL, what the server said of the document last
	// fetched from it (ETag, Last-Modified), to ask whether it changed.
	validators map[string]validator
}

// validator is a server's word for a version of a document, and the
// SHA-256 of that version.
type validator struct {
	etag, lastModified string
	sum                [sha256.Size]byte
}

// document is a fetched document: its bytes, or, when the server said it
// had not changed (304), nil and the SHA-256 of the version it last sent.
type document struct {
	data []byte
	sum  [sha256.Size]byte
}

type parseResult struct {
	parsed Parsed
	err    error
}

// maxRemembered bounds the parse results a Discoverer keeps: the probe
// paths of one upstream, with room for a document that changes.
const maxRemembered = 8

// Target says where an upstream's document is.
type Target struct {
	// BaseURL is the upstream's own address (http://host:port) to probe.
	BaseURL string
	// DocURL, when set, is the document's URL; no probing.
	DocURL string
	// Inline, when set, is the document itself.
	Inline string
	// Limits bound the document; zero values are the defaults.
	Limits Limits
}

// Limits bound what a document may be: its size, and the operations it
// declares.
type Limits struct {
	MaxBytes      int64
	MaxOperations int
}

// Result is what discovery found.
type Result struct {
	Functions []functions.Function
	Source    string
	// Skipped are the parts of the document discovery could not read.
	Skipped []string
}

// Discover finds the target's document and parses it. A transient failure
// (connection refused, 5xx, timeout) is an error to retry; a document that
// is found but broken or hostile is an error to report; ErrNoDocument says
// there is nothing to discover.
func (d *Discoverer) Discover(ctx context.Context, t Target) (Result, error) {
	switch {
	case t.Inline != "":
		p, err := d.parse(ctx, newDocument([]byte(t.Inline)))
		return Result{Functions: p.Functions, Skipped: p.Skipped, Source: "inline"}, named(err)
	case t.DocURL != "":
		doc, status, err := d.fetch(ctx, t.DocURL)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("GET %s: status %d", t.DocURL, status)
		}
		if err != nil {
			return Result{}, err
		}
		p, err := d.parse(ctx, doc)
		return Result{Functions: p.Functions, Skipped: p.Skipped, Source: t.DocURL}, named(err)
	}
	return d.probe(ctx, t.BaseURL)
}

// named makes "not OpenAPI" a bad document where the config named the
// document: unlike a probed path, it was meant to be one.
func named(err error) error {
	if errors.Is(err, ErrNotOpenAPI) && !errors.Is(err, ErrBadDocument) {
		return badDocument{err}
	}
	return err
}

func (d *Discoverer) probe(ctx context.Context, base string) (Result, error) {
	base = strings.TrimSuffix(base, "/")
	var transient error
	for _, p := range ProbePaths {
		doc, status, err := d.fetch(ctx, base+p)
		switch {
		case err != nil:
			if errors.Is(err, ErrBadDocument) {
				return Result{Source: base + p}, err
			}
			transient = err
			continue
		case status >= 500:
			transient = fmt.Errorf("GET %s: status %d", base+p, status)
			continue
		case status != http.StatusOK:
			continue
		}
		parsed, err := d.parse(ctx, doc)
		if errors.Is(err, ErrNotOpenAPI) {
			continue // some other JSON at that path
		}
		return Result{Functions: parsed.Functions, Skipped: parsed.Skipped, Source: base + p}, err
	}
	if transient != nil {
		return Result{}, transient
	}
	return Result{}, ErrNoDocument
}

var errTooLarge = errors.New("document too large")

func newDocument(data []byte) document { return document{data: data, sum: sha256.Sum256(data)} }

// fetch gets a document. When the server described the version it sent
// last (ETag, Last-Modified) and that version's result is remembered, it
// asks whether the document changed: a server that says it did not (304)
// sends nothing, and nothing is parsed.
func (d *Discoverer) fetch(ctx context.Context, url string) (document, int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return document{}, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json, application/yaml;q=0.9, */*;q=0.5")
	v, conditional := d.validator(url)
	if conditional {
		if v.etag != "" {
			req.Header.Set("If-None-Match", v.etag)
		}
		if v.lastModified != "" {
			req.Header.Set("If-Modified-Since", v.lastModified)
		}
	}
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return document{}, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if conditional && resp.StatusCode == http.StatusNotModified {
		return document{sum: v.sum}, http.StatusOK, nil
	}
	if resp.StatusCode != http.StatusOK {
		return document{}, resp.StatusCode, nil
	}
	max := d.maxSize()
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return document{}, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(data)) > max {
		return document{}, 0, badDocument{fmt.Errorf("GET %s: %w: more than %d bytes", url, errTooLarge, max)}
	}
	doc := newDocument(data)
	d.remember(url, validator{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified"), sum: doc.sum})
	return doc, resp.StatusCode, nil
}

// validator is what to ask url's server with: only when it described the
// version it sent last, and that version's result is still remembered.
func (d *Discoverer) validator(url string) (validator, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.validators[url]
	_, known := d.parsed[v.sum]
	return v, ok && known && (v.etag != "" || v.lastModified != "")
}

func (d *Discoverer) remember(url string, v validator) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.validators) >= maxRemembered || d.validators == nil {
		d.validators = map[string]validator{}
	}
	d.validators[url] = v
}

// parse returns what the document gave when it was last parsed, else
// parses it. A document that fails to parse, or to parse in time, is a
// badDocument; that is remembered too.
func (d *Discoverer) parse(ctx context.Context, doc document) (Parsed, error) {
	if int64(len(doc.data)) > d.maxSize() {
		return Parsed{}, badDocument{fmt.Errorf("%w: %d bytes, at most %d", errTooLarge, len(doc.data), d.maxSize())}
	}
	sum := doc.sum
	d.mu.Lock()
	r, seen := d.parsed[sum]
	d.mu.Unlock()
	if seen {
		return r.parsed, r.err
	}
	if doc.data == nil {
		// Not modified, but its result was forgotten meanwhile: ask again
		// soon, for the whole document.
		return Parsed{}, errors.New("the document's result was forgotten; fetching it again")
	}
	r, err := d.parseBounded(ctx, doc.data)
	if err != nil {
		return Parsed{}, err // cancelled: nothing learnt about the document
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.parsed) >= maxRemembered || d.parsed == nil {
		d.parsed = map[[sha256.Size]byte]parseResult{}
	}
	d.parsed[sum] = r
	d.parses++
	return r.parsed, r.err
}

// parseBounded parses in a goroutine that is abandoned at the time limit:
// a hostile document cannot hold discovery. It fails only when ctx ends.
func (d *Discoverer) parseBounded(ctx context.Context, data []byte) (parseResult, error) {
	done := make(chan parseResult, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- parseResult{err: fmt.Errorf("parsing the document failed: %v", r)}
			}
		}()
		parsed, err := ParseLimited(data, cmp.Or(d.MaxOperations, MaxFunctions))
		done <- parseResult{parsed, err}
	}()
	timer := time.NewTimer(d.timeout())
	defer timer.Stop()
	var r parseResult
	select {
	case r = <-done:
	case <-timer.C:
		r.err = fmt.Errorf("parsing the document took longer than %s", d.timeout())
	case <-ctx.Done():
		return parseResult{}, ctx.Err()
	}
	if r.err != nil && !errors.Is(r.err, ErrNotOpenAPI) {
		r.err = badDocument{r.err}
	}
	return r, nil
}

func (d *Discoverer) maxSize() int64 {
	if d.MaxSize > 0 {
		return d.MaxSize
	}
	return 32 << 20
}

func (d *Discoverer) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return 10 * time.Second
}
