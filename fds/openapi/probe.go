package openapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
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

// Discoverer fetches and parses documents within bounds.
type Discoverer struct {
	Client *http.Client
	// MaxSize bounds a document (default 10 MiB).
	MaxSize int64
	// Timeout bounds each fetch and each parse (default 10 s).
	Timeout time.Duration
}

// Target says where an upstream's document is.
type Target struct {
	// BaseURL is the upstream's own address (http://host:port) to probe.
	BaseURL string
	// DocURL, when set, is the document's URL; no probing.
	DocURL string
	// Inline, when set, is the document itself.
	Inline string
}

// Result is what discovery found.
type Result struct {
	Functions []functions.Function
	Source    string
}

// Discover finds the target's document and parses it. A transient failure
// (connection refused, 5xx, timeout) is an error to retry; a document that
// is found but broken or hostile is an error to report; ErrNoDocument says
// there is nothing to discover.
func (d *Discoverer) Discover(ctx context.Context, t Target) (Result, error) {
	switch {
	case t.Inline != "":
		fns, err := d.parse(ctx, []byte(t.Inline))
		return Result{Functions: fns, Source: "inline"}, err
	case t.DocURL != "":
		data, status, err := d.fetch(ctx, t.DocURL)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("GET %s: status %d", t.DocURL, status)
		}
		if err != nil {
			return Result{}, err
		}
		fns, err := d.parse(ctx, data)
		return Result{Functions: fns, Source: t.DocURL}, err
	}
	return d.probe(ctx, t.BaseURL)
}

func (d *Discoverer) probe(ctx context.Context, base string) (Result, error) {
	base = strings.TrimSuffix(base, "/")
	var transient error
	for _, p := range ProbePaths {
		data, status, err := d.fetch(ctx, base+p)
		switch {
		case err != nil:
			if errors.Is(err, errTooLarge) {
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
		fns, err := d.parse(ctx, data)
		if errors.Is(err, ErrNotOpenAPI) {
			continue // some other JSON at that path
		}
		return Result{Functions: fns, Source: base + p}, err
	}
	if transient != nil {
		return Result{}, transient
	}
	return Result{}, ErrNoDocument
}

var errTooLarge = errors.New("document too large")

func (d *Discoverer) fetch(ctx context.Context, url string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json, application/yaml;q=0.9, */*;q=0.5")
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, nil
	}
	max := d.maxSize()
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(data)) > max {
		return nil, 0, fmt.Errorf("GET %s: %w: more than %d bytes", url, errTooLarge, max)
	}
	return data, resp.StatusCode, nil
}

// parse bounds parsing in time too: a hostile document is abandoned.
func (d *Discoverer) parse(ctx context.Context, data []byte) ([]functions.Function, error) {
	if int64(len(data)) > d.maxSize() {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", errTooLarge, len(data), d.maxSize())
	}
	type result struct {
		fns []functions.Function
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("parsing the document failed: %v", r)}
			}
		}()
		fns, err := Parse(data)
		done <- result{fns, err}
	}()
	select {
	case r := <-done:
		return r.fns, r.err
	case <-time.After(d.timeout()):
		return nil, fmt.Errorf("parsing the document took longer than %s", d.timeout())
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (d *Discoverer) maxSize() int64 {
	if d.MaxSize > 0 {
		return d.MaxSize
	}
	return 10 << 20
}

func (d *Discoverer) timeout() time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return 10 * time.Second
}
