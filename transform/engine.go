package transform

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flosch/pongo2/v6"
)

// Options bound what templates may do.
type Options struct {
	// MaxOutput bounds each rendered template, in bytes (default 1 MiB).
	MaxOutput int
	// RenderTimeout bounds each render (default 100 ms).
	RenderTimeout time.Duration
	// MaxLoopDepth bounds nested {% for %} loops (default 2), and
	// MaxLoopIterations the iterations of all loops of one render (default
	// 100000).
	MaxLoopDepth      int
	MaxLoopIterations int
	// MaxAllocation bounds the bytes the template functions of one render
	// produce in total (default 16 MiB): replace(body(), "", body()) is
	// refused before it allocates.
	MaxAllocation int
	// MaxBody bounds the body buffered for templates (default 1 MiB).
	MaxBody int
	// MaxSource bounds a template's source, in bytes (default 64 KiB), and
	// MaxNesting how deeply its brackets and block tags nest (default 64):
	// pongo2's parser recurses per level, and a hostile template must be
	// refused before it can exhaust the stack.
	MaxSource  int
	MaxNesting int
	// Env holds the environment variables templates may read with env(),
	// with their values: only names the operator allow-lists.
	Env map[string]string
}

// Engine compiles transformations. One engine serves many transformations
// and is safe for concurrent use.
type Engine struct {
	set  *pongo2.TemplateSet
	opts Options
	// overdue counts renders that passed their deadline and are still
	// running: a runaway template cannot be stopped, only left behind,
	// so past maxOverdue new slow-path renders fail fast.
	overdue atomic.Int32
}

const maxOverdue = 4

// bannedTags reach files (include, import, extends, ssi), recurse without
// bound (macro), or allocate without bound (lorem).
var bannedTags = []string{"include", "import", "extends", "ssi", "block", "macro", "lorem"}

// bannedFilters allocate as much as their argument asks; join has a
// bounded function form, join(list, separator), as in inja.
var bannedFilters = []string{"center", "ljust", "rjust", "stringformat", "floatformat", "wordwrap", "join"}

// NewEngine returns an engine with the given bounds.
func NewEngine(o Options) *Engine {
	if o.MaxOutput <= 0 {
		o.MaxOutput = 1 << 20
	}
	if o.RenderTimeout <= 0 {
		o.RenderTimeout = 100 * time.Millisecond
	}
	if o.MaxLoopDepth <= 0 {
		o.MaxLoopDepth = 2
	}
	if o.MaxLoopIterations <= 0 {
		o.MaxLoopIterations = 100_000
	}
	if o.MaxAllocation <= 0 {
		o.MaxAllocation = 16 << 20
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 1 << 20
	}
	if o.MaxSource <= 0 {
		o.MaxSource = 64 << 10
	}
	if o.MaxNesting <= 0 {
		o.MaxNesting = 64
	}
	installBoundedTags()
	set := pongo2.NewSet("gluon", noFiles{})
	for _, t := range bannedTags {
		_ = set.BanTag(t) // every name is a pongo2 built-in; an error would mean it no longer exists
	}
	for _, f := range bannedFilters {
		_ = set.BanFilter(f)
	}
	return &Engine{set: set, opts: o}
}

// noFiles is the template loader: templates come from config, never files.
type noFiles struct{}

func (noFiles) Abs(_, name string) string { return name }

func (noFiles) Get(path string) (io.Reader, error) {
	return nil, fmt.Errorf("templates cannot read files (%q)", path)
}

// CompileError is a template that does not compile, with where.
type CompileError struct {
	Field  string // e.g. request.headers[":path"]
	Line   int
	Column int
	Reason string
}

func (e *CompileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d, column %d: %s", e.Field, e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

// autoescapeOff wraps every slow-path template: pongo2 escapes HTML by
// default (a global setting), which is wrong for headers and JSON bodies.
const autoescapeOff = "{% autoescape off %}"

var (
	forOpen  = regexp.MustCompile(`\{%-?\s*for\s`)
	forClose = regexp.MustCompile(`\{%-?\s*endfor\s*-?%\}`)
)

// text is one compiled template string.
type text struct {
	source string
	fast   []segment        // set when the template only substitutes lookups
	slow   *pongo2.Template // otherwise
}

func (e *Engine) compileText(field, source string) (*text, error) {
	if len(source) > e.opts.MaxSource {
		return nil, &CompileError{Field: field, Reason: fmt.Sprintf("template of %d bytes; at most %d are allowed", len(source), e.opts.MaxSource)}
	}
	if depth := nestingDepth(source); depth > e.opts.MaxNesting {
		return nil, &CompileError{Field: field, Reason: fmt.Sprintf("brackets and block tags nest %d deep; at most %d are allowed", depth, e.opts.MaxNesting)}
	}
	if segs, ok := fastSegments(source); ok {
		return &text{source: source, fast: segs}, nil
	}
	if depth := loopDepth(source); depth > e.opts.MaxLoopDepth {
		return nil, &CompileError{Field: field, Reason: fmt.Sprintf("for loops nested %d deep; at most %d are allowed", depth, e.opts.MaxLoopDepth)}
	}
	tpl, err := e.set.FromString(autoescapeOff + source + "{% endautoescape %}")
	if err != nil {
		return nil, compileError(field, err)
	}
	return &text{source: source, slow: tpl}, nil
}

func compileError(field string, err error) error {
	ce := &CompileError{Field: field, Reason: err.Error()}
	var pe *pongo2.Error
	if errors.As(err, &pe) {
		ce.Line, ce.Column, ce.Reason = pe.Line, pe.Column, pe.OrigError.Error()
		if ce.Line == 1 {
			ce.Column -= len(autoescapeOff)
		}
		if strings.Contains(ce.Reason, "not allowed") {
			ce.Reason += " (templates are sandboxed: no include, import, extends, ssi, macro or lorem)"
		}
	}
	return ce
}

// blockOpen and blockClose find pongo2's block tags, which nest.
var (
	blockOpen  = regexp.MustCompile(`\{%-?\s*(if|for|with|filter|spaceless|ifchanged|ifequal|ifnotequal|autoescape|comment|verbatim)\s`)
	blockClose = regexp.MustCompile(`\{%-?\s*end[a-z]*\s*-?%\}`)
)

// nestingDepth is how deeply brackets ((, [, {) and block tags nest in
// source, counted as one: a bound on the parser's recursion. Brackets in
// string literals count too, which only errs on the safe side.
func nestingDepth(source string) int {
	d, deepest := 0, 0
	for _, c := range []byte(source) {
		switch c {
		case '(', '[', '{':
			d++
			deepest = max(deepest, d)
		case ')', ']', '}':
			d = max(d-1, 0)
		}
	}
	blocks := 0
	if strings.Contains(source, "{%") {
		blocks = tagDepth(blockOpen.FindAllStringIndex(source, -1), blockClose.FindAllStringIndex(source, -1))
	}
	return deepest + blocks
}

// loopDepth returns how deeply {% for %} loops nest in source.
func loopDepth(source string) int {
	return tagDepth(forOpen.FindAllStringIndex(source, -1), forClose.FindAllStringIndex(source, -1))
}

// tagDepth is how deeply the opening and closing tags found nest.
func tagDepth(opens, closes [][]int) int {
	depth, max, i, j := 0, 0, 0, 0
	for i < len(opens) || j < len(closes) {
		if j >= len(closes) || (i < len(opens) && opens[i][0] < closes[j][0]) {
			depth++
			i++
			if depth > max {
				max = depth
			}
			continue
		}
		depth--
		j++
	}
	return max
}
