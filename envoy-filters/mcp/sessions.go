package mcp

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// sessionIdle is how long a session may go unused before it is dropped.
const sessionIdle = time.Hour

// Sessions are the MCP sessions of every endpoint. They outlive config
// versions (a new tool list must not end a client's session) and are told
// when an endpoint's tool list changes.
type Sessions struct {
	mu        sync.Mutex
	endpoints map[string]*endpoint
	now       func() time.Time
}

type endpoint struct {
	version string // the tool list's that sessions were last told of
	// staged is the version of the config about to serve (Stage), told
	// of at the next Publish.
	staged   string
	sessions map[string]*Session
}

// Session is one client's session.
type Session struct {
	ID       string
	Protocol string // the negotiated protocol version
	lastUsed time.Time
	// Notify carries the server's messages for the session's GET stream;
	// messages that find it full are dropped (the client lists again).
	Notify chan []byte
	// stream ends the session's GET stream, if one is open: a new one
	// replaces it (a client reconnecting after a broken connection must
	// not find its session taken by a stream the server has not yet seen
	// end).
	streamMu sync.Mutex
	stream   *streamHandle
	// Done is closed when the session ends.
	Done chan struct{}
}

// NewSessions makes an empty store.
func NewSessions() *Sessions {
	return &Sessions{endpoints: map[string]*endpoint{}, now: time.Now}
}

func (s *Sessions) endpoint(name string) *endpoint {
	e, ok := s.endpoints[name]
	if !ok {
		e = &endpoint{sessions: map[string]*Session{}}
		s.endpoints[name] = e
	}
	return e
}

// Observe records the tool list version a config of an endpoint serves
// now: Stage and Publish at once, for a host that applies configs as it
// parses them.
func (s *Sessions) Observe(c *Config) {
	s.Stage(c)
	s.Publish()
}

// Stage records the tool list version of a config about to serve; its
// sessions are told at the next Publish, once it does: a client that
// lists its tools on being told must find the new list.
func (s *Sessions) Stage(c *Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoint(c.Endpoint).staged = c.Version
}

// Publish sends notifications/tools/list_changed to every session of each
// endpoint whose staged tool list differs from the one last published
// (not for an endpoint's first).
func (s *Sessions) Publish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.endpoints {
		if e.staged == "" || e.staged == e.version {
			continue
		}
		changed := e.version != ""
		e.version = e.staged
		if changed {
			e.notify()
		}
	}
}

func (e *endpoint) notify() {
	msg := notification("notifications/tools/list_changed")
	for _, sess := range e.sessions {
		select {
		case sess.Notify <- msg:
		default:
		}
	}
}

// errTooManySessions refuses a session beyond the endpoint's limit.
var errTooManySessions = &rpcError{Code: CodeInternalError, Message: "too many MCP sessions on this endpoint: end one (DELETE) or try later"}

func (s *Sessions) create(c *Config, protocol string) (*Session, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.endpoint(c.Endpoint)
	now := s.now()
	for id, sess := range e.sessions {
		if now.Sub(sess.lastUsed) > sessionIdle {
			delete(e.sessions, id)
			close(sess.Done)
		}
	}
	if len(e.sessions) >= c.MaxSessions {
		return nil, errTooManySessions
	}
	sess := &Session{ID: hex.EncodeToString(raw[:]), Protocol: protocol, lastUsed: now,
		Notify: make(chan []byte, 16), Done: make(chan struct{})}
	e.sessions[sess.ID] = sess
	return sess, nil
}

// Get finds a session of an endpoint, and marks it used.
func (s *Sessions) Get(endpointName, id string) (*Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.endpoint(endpointName).sessions[id]
	if ok {
		sess.lastUsed = s.now()
	}
	return sess, ok
}

// Delete ends a session; false when there is no such session.
func (s *Sessions) Delete(endpointName, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.endpoint(endpointName)
	sess, ok := e.sessions[id]
	if ok {
		delete(e.sessions, id)
		close(sess.Done)
	}
	return ok
}

// Count is the number of sessions of an endpoint.
func (s *Sessions) Count(endpointName string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.endpoint(endpointName).sessions)
}

type streamHandle struct{ end func() }

// OpenStream makes the caller the session's GET stream, ending the one
// before; end is called when another replaces it. The returned func
// releases the session when the stream ends.
func (sess *Session) OpenStream(end func()) (release func()) {
	h := &streamHandle{end: end}
	sess.streamMu.Lock()
	prev := sess.stream
	sess.stream = h
	sess.streamMu.Unlock()
	if prev != nil {
		prev.end()
	}
	return func() {
		sess.streamMu.Lock()
		if sess.stream == h {
			sess.stream = nil
		}
		sess.streamMu.Unlock()
	}
}
