package upstream

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestOpenConnectionsCounted: a pool's connections count while open, idle
// ones included, and stop counting once closed.
func TestOpenConnectionsCounted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	var open atomic.Int64
	p := NewPool(time.Second, 0, &open)
	for range 3 { // one connection, reused
		req := httptest.NewRequest("GET", "/", nil)
		resp, err := p.RoundTrip(req, Body{}, srv.Listener.Addr().String(), "/", "test", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := open.Load(); n != 1 {
		t.Fatalf("%d open connections counted, want 1", n)
	}
	p.CloseIdle()
	if n := open.Load(); n != 0 {
		t.Fatalf("%d open connections counted after closing them, want 0", n)
	}
}
