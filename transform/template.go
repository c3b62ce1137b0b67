package transform

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Headers is the header map a transformation reads and writes. Envoy's Go
// api.RequestHeaderMap and api.ResponseHeaderMap satisfy it, and so does the
// embedded data plane's adapter; pseudo-headers (:path, :method, :status)
// are read and written by name.
type Headers interface {
	Get(key string) (string, bool)
	Set(key, value string)
	Add(key, value string)
	Del(key string)
}

// Transformation is a compiled Spec.
type Transformation struct {
	Request  *Compiled
	Response *Compiled
}

// Compiled is a compiled Template, ready to apply per request.
type Compiled struct {
	engine      *Engine
	parse       ParseBody
	strictJSON  bool
	extractors  []extractor
	headers     []headerTemplate // sorted by name
	appends     []headerTemplate
	removes     []string
	body        *text
	passthrough bool
	merge       bool
	needsBody   bool
	// badHeader answers a rendered header value that cannot be sent: 400
	// for a request (the client's data made it), 502 for a response.
	badHeader int
}

type headerTemplate struct {
	name string
	tpl  *text
}

// Compile checks and compiles a spec; the error names the field, line and
// column of the first template that does not compile.
func (e *Engine) Compile(s *Spec) (*Transformation, error) {
	req, err := e.compileTemplate("request", s.Request)
	if err != nil {
		return nil, err
	}
	resp, err := e.compileTemplate("response", s.Response)
	if err != nil {
		return nil, err
	}
	return &Transformation{Request: req, Response: resp}, nil
}

func (e *Engine) compileTemplate(field string, t *Template) (*Compiled, error) {
	if t == nil {
		return nil, nil
	}
	if err := checkBodyChoice(field, t); err != nil {
		return nil, err
	}
	c := &Compiled{engine: e, parse: t.ParseBodyBehavior, strictJSON: t.StrictJSON, passthrough: t.Passthrough, merge: t.MergeExtractorsToBody, removes: lowerAll(t.HeadersToRemove), badHeader: http.StatusBadRequest}
	if field == "response" {
		c.badHeader = http.StatusBadGateway
	}
	if c.parse == "" {
		c.parse = ParseAsJSON
	}
	var err error
	if c.extractors, err = compileExtractors(field, t.Extractors); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(t.Headers))
	for n := range t.Headers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tpl, err := e.compileText(fmt.Sprintf("%s.headers[%q]", field, n), t.Headers[n])
		if err != nil {
			return nil, err
		}
		c.headers = append(c.headers, headerTemplate{strings.ToLower(n), tpl})
	}
	for i, h := range t.HeadersToAppend {
		tpl, err := e.compileText(fmt.Sprintf("%s.headersToAppend[%d]", field, i), h.Value)
		if err != nil {
			return nil, err
		}
		c.appends = append(c.appends, headerTemplate{strings.ToLower(h.Key), tpl})
	}
	if t.Body != nil {
		if c.body, err = e.compileText(field+".body", *t.Body); err != nil {
			return nil, err
		}
	}
	c.needsBody = c.computeNeedsBody()
	return c, nil
}

func checkBodyChoice(field string, t *Template) error {
	n := 0
	for _, set := range []bool{t.Body != nil, t.Passthrough, t.MergeExtractorsToBody} {
		if set {
			n++
		}
	}
	if n > 1 {
		return &CompileError{Field: field, Reason: "only one of body, passthrough, mergeExtractorsToBody may be set"}
	}
	if t.StrictJSON && t.ParseBodyBehavior == DontParse {
		return &CompileError{Field: field, Reason: "strictJson needs parseBodyBehavior ParseAsJson"}
	}
	return nil
}

// computeNeedsBody reports whether the body must be buffered: it is unless
// the template is passthrough or never looks at it.
func (c *Compiled) computeNeedsBody() bool {
	if c.passthrough {
		return false
	}
	if c.body != nil || c.merge || c.strictJSON {
		return true
	}
	for _, x := range c.extractors {
		if x.body {
			return true
		}
	}
	for _, h := range append(append([]headerTemplate{}, c.headers...), c.appends...) {
		if h.tpl.slow != nil {
			return true // a pongo2 template may read body fields
		}
	}
	return false
}

// NeedsBody reports whether Apply wants the whole body.
func (c *Compiled) NeedsBody() bool { return c.needsBody }

// MaxBody is the largest body Apply accepts.
func (c *Compiled) MaxBody() int { return c.engine.opts.MaxBody }

// Input is what a transformation applies to.
type Input struct {
	Headers Headers
	// RequestHeaders are the request's headers when transforming a response.
	RequestHeaders Headers
	// Body is the buffered body when NeedsBody, else nil.
	Body []byte
	// MaxBody, when positive, replaces the engine's body limit: the proxy
	// buffered the body under its own limit (a buffer filter's, say).
	MaxBody int
}

// RenderError is a transformation that failed for one request; Status is
// what the client should be answered.
type RenderError struct {
	Status int
	Reason string
}

func (e *RenderError) Error() string { return e.Reason }

// Apply transforms headers in place and returns the new body, with changed
// false when the body is to be left as it was.
func (c *Compiled) Apply(in Input) (body []byte, changed bool, err error) {
	limit := c.engine.opts.MaxBody
	if in.MaxBody > 0 {
		limit = in.MaxBody
	}
	if len(in.Body) > limit {
		return nil, false, &RenderError{Status: http.StatusRequestEntityTooLarge, Reason: fmt.Sprintf("body of %d bytes exceeds the transformation limit of %d", len(in.Body), limit)}
	}
	rc := newRenderContext(c, in)
	if c.strictJSON && len(in.Body) > 0 && rc.jsonErr() != nil {
		return nil, false, &RenderError{Status: http.StatusBadRequest, Reason: "body is not valid JSON: " + rc.jsonErr().Error()}
	}
	sets, err := c.renderHeaders(rc, c.headers)
	if err != nil {
		return nil, false, err
	}
	appends, err := c.renderHeaders(rc, c.appends)
	if err != nil {
		return nil, false, err
	}
	if body, changed, err = c.newBody(rc); err != nil {
		return nil, false, err
	}
	for _, n := range c.removes {
		in.Headers.Del(n)
	}
	for i, h := range c.headers {
		if sets[i] == "" {
			in.Headers.Del(h.name)
		} else {
			in.Headers.Set(h.name, sets[i])
		}
	}
	for i, h := range c.appends {
		in.Headers.Add(h.name, appends[i])
	}
	return body, changed, nil
}

// renderHeaders renders each header's value and checks it can be sent.
func (c *Compiled) renderHeaders(rc *renderContext, hs []headerTemplate) ([]string, error) {
	out := make([]string, len(hs))
	for i, h := range hs {
		v, err := rc.render(h.tpl, "header "+h.name)
		if err != nil {
			return nil, err
		}
		if why := invalidHeaderValue(h.name, v); why != "" {
			return nil, &RenderError{Status: c.badHeader, Reason: fmt.Sprintf("transformation made an invalid value for header %s: %s", h.name, why)}
		}
		out[i] = v
	}
	return out, nil
}

func (c *Compiled) newBody(rc *renderContext) ([]byte, bool, error) {
	switch {
	case c.body != nil:
		s, err := rc.render(c.body, "body")
		return []byte(s), true, err
	case c.merge:
		return rc.mergeExtractions()
	}
	return nil, false, nil
}

func lowerAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

// mergeExtractions writes every extraction into the JSON body object;
// dotted names make nested objects. A body that is not a JSON object is
// replaced by one.
func (rc *renderContext) mergeExtractions() ([]byte, bool, error) {
	obj, ok := rc.jsonBody().(map[string]any)
	if !ok {
		obj = map[string]any{}
	}
	for i := range rc.c.extractors {
		x := &rc.c.extractors[i]
		if x.noMerge {
			continue
		}
		setPath(obj, strings.Split(x.name, "."), x.jsonValue(rc.extracted[i]))
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, false, &RenderError{Status: http.StatusInternalServerError, Reason: "merging extractions: " + err.Error()}
	}
	return b, true, nil
}

func setPath(obj map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := obj[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			obj[p] = next
		}
		obj = next
	}
	obj[path[len(path)-1]] = v
}
