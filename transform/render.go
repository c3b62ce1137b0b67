package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// renderContext is one request's view for templates.
type renderContext struct {
	c       *Compiled
	headers Headers
	reqHdrs Headers
	body    []byte
	// maxOutput bounds each rendered template: the engine's bound, or the
	// body limit of this request when larger (echoing the body must fit).
	maxOutput int
	// bodyText is body as a string, made on the first body() call: most
	// renders never call it, and a copy of a large body per request was
	// wasted. Renders of one request may overlap (one abandoned at its
	// deadline), hence the Once.
	bodyOnce  sync.Once
	bodyText  string
	extracted []string // by extractor index

	parsed  bool
	json    any
	jsonBad error

	// mu guards header access against a render abandoned at its deadline
	// that still runs while the request has moved on.
	mu        sync.Mutex
	abandoned bool
}

func newRenderContext(c *Compiled, in Input) *renderContext {
	rc := &renderContext{c: c, headers: in.Headers, reqHdrs: in.RequestHeaders, body: in.Body, maxOutput: max(c.engine.opts.MaxOutput, in.MaxBody)}
	if rc.reqHdrs == nil {
		rc.reqHdrs = in.Headers
	}
	if len(c.extractors) > 0 {
		rc.extracted = make([]string, len(c.extractors))
		for i := range c.extractors {
			x := &c.extractors[i]
			src := string(in.Body)
			if !x.body {
				src, _ = in.Headers.Get(x.header)
			}
			rc.extracted[i] = x.extract(src)
		}
	}
	return rc
}

// bodyString is the body as a string, made once.
func (rc *renderContext) bodyString() string {
	rc.bodyOnce.Do(func() { rc.bodyText = string(rc.body) })
	return rc.bodyText
}

func (rc *renderContext) header(name string) string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.abandoned {
		return ""
	}
	v, _ := rc.headers.Get(name)
	return v
}

func (rc *renderContext) requestHeader(name string) string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.abandoned {
		return ""
	}
	v, _ := rc.reqHdrs.Get(name)
	return v
}

func (rc *renderContext) extraction(name string) string {
	for i := range rc.c.extractors {
		if rc.c.extractors[i].name == name {
			return rc.extracted[i]
		}
	}
	return ""
}

// jsonBody parses the body once; a body that is not JSON yields nil.
func (rc *renderContext) jsonBody() any {
	if !rc.parsed {
		rc.parsed = true
		if rc.c.parse == ParseAsJSON && len(rc.body) > 0 {
			rc.jsonBad = json.Unmarshal(rc.body, &rc.json)
		}
	}
	return rc.json
}

func (rc *renderContext) jsonErr() error {
	rc.jsonBody()
	return rc.jsonBad
}

func (rc *renderContext) render(t *text, what string) (string, error) {
	if t.fast != nil {
		return string(t.renderFast(rc, make([]byte, 0, 64))), nil
	}
	return rc.renderSlow(t, what)
}

var errOutputLimit = errors.New("output limit reached")

// limitedWriter stops a render that writes more than max bytes or was
// abandoned. pongo2 ignores write errors, so it panics with errOutputLimit
// or errAbandoned, which renderSlow recovers.
type limitedWriter struct {
	buf    []byte
	max    int
	budget *renderBudget
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.budget.stopped.Load() {
		panic(errAbandoned)
	}
	if len(w.buf)+len(p) > w.max {
		panic(errOutputLimit)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

type renderResult struct {
	out []byte
	err error
}

// renderSlow runs pongo2 in a goroutine so that a runaway template can be
// abandoned at its deadline; it is recovered from panics.
func (rc *renderContext) renderSlow(t *text, what string) (string, error) {
	e := rc.c.engine
	if e.overdue.Load() >= maxOverdue {
		return "", renderErr(what, errors.New("too many templates are still running past their deadline; try again later"))
	}
	budget := &renderBudget{maxIterations: e.opts.MaxLoopIterations, maxAllocated: e.opts.MaxAllocation}
	ctx := rc.templateFunctions(budget)
	ctx[budgetKey] = budget
	if obj, ok := rc.jsonBody().(map[string]any); ok {
		for k, v := range obj {
			if _, taken := ctx[k]; !taken && pongo2IdentOK(k) {
				ctx[k] = v
			}
		}
	}
	done := make(chan renderResult, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- renderResult{err: recovered(r)}
			}
		}()
		w := &limitedWriter{max: rc.maxOutput, budget: budget}
		err := t.slow.ExecuteWriterUnbuffered(ctx, w)
		done <- renderResult{w.buf, err}
	}()
	timer := time.NewTimer(e.opts.RenderTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			if errors.Is(r.err, errOutputLimit) {
				return "", renderErr(what, fmt.Errorf("output exceeds %d bytes", rc.maxOutput))
			}
			return "", renderErr(what, r.err)
		}
		return string(r.out), nil
	case <-timer.C:
		budget.stop()
		rc.mu.Lock()
		rc.abandoned = true
		rc.mu.Unlock()
		e.overdue.Add(1)
		go func() { <-done; e.overdue.Add(-1) }()
		return "", renderErr(what, fmt.Errorf("render exceeded %s", e.opts.RenderTimeout))
	}
}

// recovered turns what a render panicked with into its error.
func recovered(r any) error {
	err, ok := r.(error)
	var be *budgetError
	if ok && (errors.Is(err, errOutputLimit) || errors.As(err, &be)) {
		return err
	}
	return fmt.Errorf("template panicked: %v", r)
}

func renderErr(what string, err error) error {
	return &RenderError{Status: http.StatusInternalServerError, Reason: "transformation failed rendering " + what + ": " + err.Error()}
}

// pongo2IdentOK reports whether a JSON key can be a template variable.
func pongo2IdentOK(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
