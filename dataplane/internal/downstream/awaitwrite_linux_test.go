package downstream

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// onlyConn returns the server's one connection; called from its handler,
// which runs on the connection's goroutine, it may read the connection's
// fields.
func onlyConn(t *testing.T, s *Server) *downstreamConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		return c
	}
	t.Error("no connection")
	return nil
}

// A response's last write waits for the next request. A request sent
// before the response, which that wait cannot see, is still answered, and
// the connection then stops waiting that way.
func TestDownstreamRequestSentBeforeTheResponse(t *testing.T) {
	inFirst, secondSent := make(chan struct{}), make(chan struct{})
	var srv atomic.Pointer[Server] // set once the server starts
	s, addr := startDownstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/first":
			close(inFirst)
			<-secondSent
			time.Sleep(20 * time.Millisecond) // the runtime's poller sees the bytes arrive
		case "/state":
			c := onlyConn(t, srv.Load())
			_, _ = io.WriteString(w, strconv.FormatBool(!c.awaitUntil.IsZero())+" "+strconv.FormatBool(c.noAwait))
			return
		}
		_, _ = io.WriteString(w, r.URL.Path)
	})
	srv.Store(s)
	c := dialRaw(t, addr)
	expect := func(want string) {
		t.Helper()
		_ = c.c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, body := c.response("GET"); body != want {
			t.Fatalf("got %q, want %q", body, want)
		}
	}

	c.send("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n")
	expect("/plain")
	c.send("GET /state HTTP/1.1\r\nHost: x\r\n\r\n")
	expect("true false") // awaited, after a plain request

	c.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
	<-inFirst
	c.send("GET /second HTTP/1.1\r\nHost: x\r\n\r\n")
	close(secondSent)
	expect("/first")
	expect("/second") // within nextRequestWait, not the idle timeout
	c.send("GET /state HTTP/1.1\r\nHost: x\r\n\r\n")
	expect("false true")
}
