package transform

import (
	"fmt"
	"sync/atomic"
)

// renderBudget bounds the work of one slow-path render: loop iterations
// and the bytes template functions produce. pongo2 cannot be interrupted,
// so the render checks its budget at every loop iteration, function call
// and write, and ends there (by panicking with a *budgetError, which
// renderSlow recovers) once the budget is spent or the render was
// abandoned at its deadline. Only the render's goroutine spends it; stop
// comes from the request's.
type renderBudget struct {
	stopped       atomic.Bool
	iterations    int
	maxIterations int
	allocated     int
	maxAllocated  int
}

// budgetError is why a render was ended early.
type budgetError struct{ reason string }

func (e *budgetError) Error() string { return e.reason }

var errAbandoned = &budgetError{reason: "render abandoned at its deadline"}

// budgetKey names the budget in a render's pongo2 context, where the
// bounded for tag finds it. It must be a valid identifier; a template that
// names it renders nothing (renderBudget's String).
const budgetKey = "gluon_render_budget"

func (b *renderBudget) String() string { return "" }

// stop makes the render end at its next check.
func (b *renderBudget) stop() { b.stopped.Store(true) }

// iterate charges one loop iteration.
func (b *renderBudget) iterate() {
	if b.stopped.Load() {
		panic(errAbandoned)
	}
	b.iterations++
	if b.iterations > b.maxIterations {
		panic(&budgetError{reason: fmt.Sprintf("loops ran more than %d iterations", b.maxIterations)})
	}
}

// allocate charges n bytes about to be made by a template function or set.
func (b *renderBudget) allocate(n int) {
	if b.stopped.Load() {
		panic(errAbandoned)
	}
	b.allocated += n
	if n < 0 || b.allocated > b.maxAllocated {
		panic(&budgetError{reason: fmt.Sprintf("the values the render made exceed %d bytes", b.maxAllocated)})
	}
}
