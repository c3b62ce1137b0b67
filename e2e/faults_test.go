package e2e

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// TestFaults: an abort at 30% answers 30% ± 5% of 2,000 requests with its
// status, and a delay of 200 ms at 100% shows in every latency.
func TestFaults(t *testing.T) {
	base := serveOneUpstream(t, nil, "", `apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: chaos}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /abort}]
      options: {faults: {abort: {percentage: 30, httpStatus: 503}}}
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{prefix: /slow}]
      options: {faults: {delay: {percentage: 100, fixedDelay: 200ms}}}
      routeAction: {single: {upstream: {name: a}}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: a}}}
`)

	const n = 2000
	aborted := 0
	for range n {
		resp, err := http.Get(base + "/abort")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case 503:
			aborted++
		case 200:
		default:
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if share := float64(aborted) / n; share < 0.25 || share > 0.35 {
		t.Errorf("%d of %d aborted (%.1f%%), want 30%% ± 5%%", aborted, n, 100*share)
	}

	for range 5 {
		start := time.Now()
		code, _ := get(t, base+"/slow", nil)
		if took := time.Since(start); code != 200 || took < 200*time.Millisecond {
			t.Errorf("delayed request: %d after %s, want 200 after ≥ 200ms", code, took)
		}
	}
}
