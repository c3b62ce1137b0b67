package transform

import (
	"sync"

	"github.com/flosch/pongo2/v6"
)

// pongo2 registers tags process-wide; Gluon is its only user in the
// process, so the engine swaps the built-in for and set tags for bounded
// ones once, before any template is parsed. Loops are where a runaway
// render spends its time, and set (in a loop) where it accumulates memory.
var installBoundedTags = sync.OnceFunc(func() {
	for name, parse := range map[string]pongo2.TagParser{"for": parseBoundedFor, "set": parseBoundedSet} {
		if err := pongo2.ReplaceTag(name, parse); err != nil {
			panic(err) // both are pongo2 built-ins; an error means one vanished
		}
	}
})

// budgetOf finds the render's budget in its context.
func budgetOf(ctx *pongo2.ExecutionContext) *renderBudget {
	b, _ := ctx.Public[budgetKey].(*renderBudget)
	if b == nil { // a render without one is a bug, not a reason to be unbounded
		panic(&budgetError{reason: "render has no budget"})
	}
	return b
}

// boundedFor is pongo2's for tag (same syntax, same forloop variable)
// charging each iteration to the render's budget, so that loops are the
// place an abandoned or runaway render stops.
type boundedFor struct {
	key, value        string
	over              pongo2.IEvaluator
	reversed, sorted  bool
	body, emptyBranch *pongo2.NodeWrapper
}

// forLoop is what templates see as forloop.
type forLoop struct {
	Counter, Counter0, Revcounter, Revcounter0 int
	First, Last                                bool
	Parentloop                                 *forLoop
}

// parseBoundedFor reads {% for key[, value] in expr [reversed] [sorted] %}
// ... [{% empty %} ...] {% endfor %}.
func parseBoundedFor(doc *pongo2.Parser, _ *pongo2.Token, args *pongo2.Parser) (pongo2.INodeTag, *pongo2.Error) {
	n := &boundedFor{}
	key := args.MatchType(pongo2.TokenIdentifier)
	if key == nil {
		return nil, args.Error("for: expected a loop variable", nil)
	}
	n.key = key.Val
	if args.Match(pongo2.TokenSymbol, ",") != nil {
		value := args.MatchType(pongo2.TokenIdentifier)
		if value == nil {
			return nil, args.Error("for: expected a second loop variable after ','", nil)
		}
		n.value = value.Val
	}
	if args.Match(pongo2.TokenKeyword, "in") == nil {
		return nil, args.Error("for: expected 'in'", nil)
	}
	over, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	n.over = over
	n.reversed = args.MatchOne(pongo2.TokenIdentifier, "reversed") != nil
	n.sorted = args.MatchOne(pongo2.TokenIdentifier, "sorted") != nil
	if args.Remaining() > 0 {
		return nil, args.Error("for: unexpected arguments", nil)
	}
	if n.body, err = wrapUntil(doc, "empty", "endfor"); err != nil {
		return nil, err
	}
	if n.body.Endtag == "empty" {
		if n.emptyBranch, err = wrapUntil(doc, "endfor"); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func wrapUntil(doc *pongo2.Parser, tags ...string) (*pongo2.NodeWrapper, *pongo2.Error) {
	w, endArgs, err := doc.WrapUntilTag(tags...)
	if err != nil {
		return nil, err
	}
	if endArgs.Count() > 0 {
		return nil, endArgs.Error("arguments are not allowed here", nil)
	}
	return w, nil
}

func (n *boundedFor) Execute(ctx *pongo2.ExecutionContext, w pongo2.TemplateWriter) *pongo2.Error {
	budget := budgetOf(ctx)
	inner := pongo2.NewChildExecutionContext(ctx)
	loop := &forLoop{First: true}
	loop.Parentloop, _ = inner.Private["forloop"].(*forLoop)
	inner.Private["forloop"] = loop
	over, err := n.over.Evaluate(inner)
	if err != nil {
		return err
	}
	var bodyErr *pongo2.Error
	over.IterateOrder(func(i, count int, key, value *pongo2.Value) bool {
		budget.iterate()
		inner.Private[n.key] = key
		if value != nil {
			inner.Private[n.value] = value
		}
		loop.Counter, loop.Counter0 = i+1, i
		loop.Revcounter, loop.Revcounter0 = count-i, count-i-1
		loop.First, loop.Last = i == 0, i+1 == count
		bodyErr = n.body.Execute(inner, w)
		return bodyErr == nil
	}, func() {
		if n.emptyBranch != nil {
			bodyErr = n.emptyBranch.Execute(inner, w)
		}
	}, n.reversed, n.sorted)
	return bodyErr
}

// boundedSet is pongo2's {% set name = expr %} charging the value it
// stores, when a string, to the render's budget.
type boundedSet struct {
	name  string
	value pongo2.IEvaluator
}

func parseBoundedSet(_ *pongo2.Parser, _ *pongo2.Token, args *pongo2.Parser) (pongo2.INodeTag, *pongo2.Error) {
	name := args.MatchType(pongo2.TokenIdentifier)
	if name == nil {
		return nil, args.Error("set: expected a variable name", nil)
	}
	if args.Match(pongo2.TokenSymbol, "=") == nil {
		return nil, args.Error("set: expected '='", nil)
	}
	value, err := args.ParseExpression()
	if err != nil {
		return nil, err
	}
	if args.Remaining() > 0 {
		return nil, args.Error("set: unexpected arguments", nil)
	}
	return &boundedSet{name: name.Val, value: value}, nil
}

func (n *boundedSet) Execute(ctx *pongo2.ExecutionContext, _ pongo2.TemplateWriter) *pongo2.Error {
	v, err := n.value.Evaluate(ctx)
	if err != nil {
		return err
	}
	if v.IsString() {
		budgetOf(ctx).allocate(v.Len())
	}
	ctx.Private[n.name] = v
	return nil
}
