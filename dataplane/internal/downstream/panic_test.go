package downstream

import (
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/dataplane/internal/guard"
)

// testGuard recovers panics quietly, counting them.
func testGuard() guard.Guard {
	return guard.Guard{Log: slog.New(slog.DiscardHandler), Count: new(atomic.Uint64)}
}

type panickyConn struct{ net.Conn }

func (panickyConn) Read([]byte) (int, error) { panic("a bug in the socket layer") }

func TestPanicInConnectionEndsOnlyThatConnection(t *testing.T) {
	guard := testGuard()
	s := NewServer(http.NotFoundHandler(), guard)
	client, server := net.Pipe()
	defer client.Close()
	_ = client.SetDeadline(time.Now().Add(5 * time.Second))
	c := newDownstreamConn(s, panickyConn{server})
	s.track(c)
	c.serve() // would take the test binary down without the guard
	if got := guard.Count.Load(); got != 1 {
		t.Fatalf("panics counted: %d, want 1", got)
	}
	if len(s.conns) != 0 {
		t.Fatal("the panicked connection is still tracked")
	}
	if _, err := client.Write([]byte("x")); err == nil {
		t.Fatal("the panicked connection was not closed")
	}
}
