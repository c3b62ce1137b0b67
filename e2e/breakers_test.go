package e2e

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestCircuitBreakers: with maxRequests 2 and 10 concurrent slow requests,
// 8 get 503 with x-envoy-overloaded at once; the 2 admitted complete.
func TestCircuitBreakers(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(time.Second)
		}
		w.Write([]byte("slow " + r.URL.Path))
	}
	base := serveOneUpstream(t, slow, "  circuitBreakers: {maxRequests: 2}", routeAllTo("a"))

	type result struct {
		code       int
		overloaded bool
		took       time.Duration
	}
	results := make(chan result, 10)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			resp, err := http.Get(base + "/slow")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			results <- result{resp.StatusCode, resp.Header.Get("X-Envoy-Overloaded") == "true", time.Since(start)}
		}()
	}
	wg.Wait()
	close(results)
	ok, overflowed := 0, 0
	for r := range results {
		switch {
		case r.code == 200:
			ok++
		case r.code == 503 && r.overloaded && r.took < 500*time.Millisecond:
			overflowed++
		default:
			t.Errorf("a request got %d (overloaded %v) after %s", r.code, r.overloaded, r.took)
		}
	}
	if ok != 2 || overflowed != 8 {
		t.Errorf("%d completed and %d overflowed at once, want 2 and 8", ok, overflowed)
	}
}
