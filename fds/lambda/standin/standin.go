// Package standin is a local AWS Lambda: an http.Handler that speaks the
// Lambda REST API the real aws-sdk-go-v2 client uses (ListFunctions,
// ListAliases, Invoke) and verifies every request's SigV4 signature as AWS
// does. No cloud endpoint is reachable from tests, e2e runs or `gluon demo`;
// this keeps the real client side honest against a server that checks what
// it receives.
package standin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Handler is a function's code. version is the version being run
// ("$LATEST", "1", ...); payload is the event, a JSON document. An error is
// reported as Lambda reports an uncaught exception (see FunctionError).
type Handler func(ctx context.Context, version string, payload []byte) ([]byte, error)

// Function is one Lambda function with its published versions and aliases.
type Function struct {
	Name string
	// Runtime defaults to "provided.al2023".
	Runtime string
	// Versions are the published versions besides $LATEST: "1", "2", ...
	Versions []string
	// Aliases maps an alias name to the version it points at.
	Aliases map[string]string
	// Timeout is Lambda's configured timeout (default 3 s): a slower
	// handler is cut off with "Task timed out". A function that must merely
	// be slow (to test a gateway's own timeout) gets a longer one.
	Timeout time.Duration
	Handler Handler
}

// Options configure a stand-in.
type Options struct {
	// Region is the only region signatures may be scoped to (default us-east-1).
	Region string
	// Account goes into ARNs (default 123456789012).
	Account string
	// PageSize bounds list pages (default 2, so that clients paginate).
	PageSize int
	// AssumedRoleLifetime, when set, is how long AssumeRole's temporary
	// credentials last, whatever DurationSeconds asked (STS's minimum is
	// 15 min): short lifetimes test refresh.
	AssumedRoleLifetime time.Duration
}

// Server is a stand-in Lambda service. Its zero value is not usable; call New.
type Server struct {
	region, account string
	pageSize        int
	roleLifetime    time.Duration

	// bg is the context asynchronous invocations run in; Close cancels it.
	bg     context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	closed      bool
	functions   map[string]*function
	credentials map[string]credential // by access key
	// assumable are the roles each access key may assume.
	assumable   map[string]map[string]bool
	assumed     []AssumedRole
	throttled   map[string]time.Duration
	apiThrottle time.Duration
	obs         observations
}

type function struct {
	Function
	versions []string // sorted numerically
}

type credential struct {
	secret, sessionToken string
	// expires is set on temporary credentials issued by AssumeRole.
	expires time.Time
}

// New returns an empty stand-in: no functions, no credentials (so every
// request is refused until AddCredentials).
func New(o Options) *Server {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Account == "" {
		o.Account = "123456789012"
	}
	if o.PageSize <= 0 {
		o.PageSize = 2
	}
	bg, cancel := context.WithCancel(context.Background())
	return &Server{
		region: o.Region, account: o.Account, pageSize: o.PageSize, roleLifetime: o.AssumedRoleLifetime,
		bg: bg, cancel: cancel,
		functions:   map[string]*function{},
		credentials: map[string]credential{},
		assumable:   map[string]map[string]bool{},
		throttled:   map[string]time.Duration{},
		obs:         newObservations(),
	}
}

// Region is the region the stand-in answers for.
func (s *Server) Region() string { return s.region }

// AddFunction adds (or replaces) a function. Versions must be positive
// integers and aliases must point at $LATEST or a listed version, as in
// Lambda.
func (s *Server) AddFunction(f Function) error {
	if f.Name == "" || f.Handler == nil {
		return errors.New("standin: a function needs a name and a handler")
	}
	if f.Runtime == "" {
		f.Runtime = "provided.al2023"
	}
	if f.Timeout <= 0 {
		f.Timeout = 3 * time.Second
	}
	fn := &function{Function: f}
	seen := map[string]bool{}
	for _, v := range f.Versions {
		if n, err := strconv.Atoi(v); err != nil || n <= 0 || seen[v] {
			return fmt.Errorf("standin: function %s: bad or repeated version %q", f.Name, v)
		}
		seen[v] = true
		fn.versions = append(fn.versions, v)
	}
	sortNumeric(fn.versions)
	for alias, v := range f.Aliases {
		if _, err := strconv.Atoi(alias); err == nil || alias == "" {
			return fmt.Errorf("standin: function %s: alias %q must not be a number", f.Name, alias)
		}
		if v != latest && !seen[v] {
			return fmt.Errorf("standin: function %s: alias %s points at unknown version %q", f.Name, alias, v)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.functions[f.Name] = fn
	return nil
}

// AddCredentials accepts an access key. A non-empty session token must
// then come with every request signed with that key (temporary
// credentials); an empty one must not.
func (s *Server) AddCredentials(accessKey, secret, sessionToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credentials[accessKey] = credential{secret: secret, sessionToken: sessionToken}
}

// Throttle makes invocations of the named function fail with 429 and a
// Retry-After of retryAfter (rounded up to seconds); 0 stops throttling.
func (s *Server) Throttle(function string, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if retryAfter <= 0 {
		delete(s.throttled, function)
		return
	}
	s.throttled[function] = retryAfter
}

// ThrottleAPI makes the list operations fail with 429, as Lambda's
// control-plane rate limit does; 0 stops throttling.
func (s *Server) ThrottleAPI(retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiThrottle = retryAfter
}

// Close cancels asynchronous invocations still running and waits for every
// handler to return.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// goHandler starts fn tracked by Close; false if the stand-in is closed.
func (s *Server) goHandler(fn func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// Endpoint is a stand-in served on loopback.
type Endpoint struct {
	// URL is http://127.0.0.1:port, for the client's BaseEndpoint.
	URL string
	srv *http.Server
	s   *Server
}

// Start serves the stand-in on 127.0.0.1 on a free port.
func (s *Server) Start() (*Endpoint, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("standin: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	return &Endpoint{URL: "http://" + ln.Addr().String(), srv: srv, s: s}, nil
}

// Close stops serving, then closes the stand-in.
func (e *Endpoint) Close() error {
	err := e.srv.Close()
	e.s.Close()
	return err
}
