package standin

import (
	"context"
	"net/http"
	"sync"
)

// Invocation is one completed invocation (synchronous or asynchronous).
type Invocation struct {
	Function string
	// Qualifier is as requested: "" (unqualified), a version or an alias.
	Qualifier string
	// Version is the version that ran.
	Version string
	// Type is RequestResponse or Event.
	Type    string
	Payload []byte
	// Response is the handler's payload or the error document.
	Response []byte
	// FunctionError is "Unhandled" when the handler failed or timed out.
	FunctionError string
	// Header is the Invoke request's, for tests that check who signed it.
	Header http.Header
}

// Request is a request as the stand-in received it, for tests that check
// what a client (or a gateway) signed and sent.
type Request struct {
	Method string
	// Path is as sent, escaped.
	Path     string
	RawQuery string
	Host     string
	Header   http.Header
	Body     []byte
}

type observations struct {
	mu          sync.Mutex
	last        *Request
	invocations []Invocation
	// changed is closed and replaced on each invocation, waking waiters.
	changed chan struct{}
}

func newObservations() observations { return observations{changed: make(chan struct{})} }

func (o *observations) request(r *http.Request, body []byte) {
	req := &Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Host: r.Host, Header: r.Header.Clone(), Body: body}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.last = req
}

func (o *observations) invoked(inv Invocation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.invocations = append(o.invocations, inv)
	close(o.changed)
	o.changed = make(chan struct{})
}

// LastRequest returns the last request received, whether or not it was
// accepted; nil before the first.
func (s *Server) LastRequest() *Request {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	return s.obs.last
}

// Invocations returns the completed invocations, in completion order.
func (s *Server) Invocations() []Invocation {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	return append([]Invocation(nil), s.obs.invocations...)
}

// Count returns how many invocations of function with the given qualifier
// (as requested; "" for unqualified) have completed.
func (s *Server) Count(function, qualifier string) int {
	n := 0
	for _, inv := range s.Invocations() {
		if inv.Function == function && inv.Qualifier == qualifier {
			n++
		}
	}
	return n
}

// WaitInvocations waits until at least n invocations have completed (an
// asynchronous one completes after its 202) and returns them.
func (s *Server) WaitInvocations(ctx context.Context, n int) ([]Invocation, error) {
	for {
		s.obs.mu.Lock()
		invs, changed := append([]Invocation(nil), s.obs.invocations...), s.obs.changed
		s.obs.mu.Unlock()
		if len(invs) >= n {
			return invs, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return invs, ctx.Err()
		}
	}
}
