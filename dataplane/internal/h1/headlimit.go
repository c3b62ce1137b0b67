package h1

import "errors"

// ErrHeadTooLarge is a read past a head's budget. It, not the budget being
// spent, is what says a head is too large: the read that spends the budget
// may carry the end of the head and the start of a body.
var ErrHeadTooLarge = errors.New("message head too large")

// HeadLimit holds the reads of a message head to a byte budget: > 0 is what
// the head may still take, 0 means no limit applies (a body is being read),
// and < 0 that the head took the whole budget.
type HeadLimit int

// clip shortens p to the budget, or fails once the budget is spent.
func (l *HeadLimit) Clip(p []byte) ([]byte, error) {
	switch {
	case *l < 0:
		return nil, ErrHeadTooLarge
	case *l > 0 && len(p) > int(*l):
		return p[:*l], nil
	}
	return p, nil
}

// took charges n bytes read to the budget.
func (l *HeadLimit) Took(n int) {
	if *l > 0 {
		if *l -= HeadLimit(n); *l == 0 {
			*l = -1
		}
	}
}
