package standin

import (
	"net/http"
	"sync"
)

// HostRequest is a request as the function host received it, accepted or
// not, for tests that check what a gateway sent.
type HostRequest struct {
	// App and Function are what it was routed to ("" if nothing matched).
	App, Function string
	Method        string
	// Path is as sent, escaped.
	Path, RawQuery, Host string
	Header               http.Header
	Body                 []byte
	// Status is what the host answered.
	Status int
}

type observations struct {
	mu       sync.Mutex
	requests []HostRequest
}

// maxObserved bounds what is kept, so long runs do not grow without end.
const maxObserved = 10_000

func (o *observations) record(r HostRequest) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.requests) >= maxObserved {
		o.requests = o.requests[1:]
	}
	o.requests = append(o.requests, r)
}

// HostRequests returns what the function host received, oldest first.
func (s *Server) HostRequests() []HostRequest {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	return append([]HostRequest(nil), s.obs.requests...)
}

// LastHostRequest returns the last request the host received; nil before the first.
func (s *Server) LastHostRequest() *HostRequest {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	if len(s.obs.requests) == 0 {
		return nil
	}
	r := s.obs.requests[len(s.obs.requests)-1]
	return &r
}
