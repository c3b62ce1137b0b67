package e2e

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// load sends requests from n clients until stopped, counting failures.
type load struct {
	ok, failed atomic.Int64
	firstErr   atomic.Value
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

// startLoad runs n clients against url (with Host host) for at most limit.
func startLoad(t *testing.T, n int, limit time.Duration, url, host string, good func(code int, body string) bool) *load {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	l := &load{cancel: cancel}
	for range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				code, body := get(t, url, map[string]string{"Host": host})
				if good(code, body) {
					l.ok.Add(1)
					continue
				}
				l.failed.Add(1)
				l.firstErr.CompareAndSwap(nil, itoa(code)+" "+body)
			}
		}()
	}
	return l
}

func (l *load) stop(t *testing.T) {
	l.cancel()
	l.wg.Wait()
	t.Logf("load: %d ok, %d failed", l.ok.Load(), l.failed.Load())
	if n := l.failed.Load(); n > 0 {
		t.Fatalf("%d requests failed; first: %v", n, l.firstErr.Load())
	}
	if l.ok.Load() == 0 {
		t.Fatal("no request succeeded")
	}
}

func TestControlPlaneRestart(t *testing.T) {
	base, cp, _, _ := setup(t, "none")
	dp := startGluon(t, "dataplane", "--xds-addr", cp.xds, "--node-id", "dp-1")
	waitFor(t, 10*time.Second, "data plane serving", func() bool { return reaches(t, base+"/x", "one.test", "a") })
	_, before := get(t, "http://"+cp.admin+"/snapshot", nil)

	l := startLoad(t, 4, 30*time.Second, base+"/x", "one.test", func(code int, body string) bool {
		return code == 200 && (strings.HasPrefix(body, "a ") || strings.HasPrefix(body, "b "))
	})
	cp.stop(syscall.SIGKILL)
	time.Sleep(time.Second) // the data plane serves alone

	restarted := startServeAt(t, cp, "none")
	// Ready comes with the restore, which may be before the source is read.
	waitFor(t, 10*time.Second, "the config source read", func() bool { return strings.Contains(restarted.Logs(), "reading config source") })
	logs := restarted.Logs()
	restoredAt, readAt := strings.Index(logs, "restored last good snapshot"), strings.Index(logs, "reading config source")
	if restoredAt < 0 || readAt < 0 || restoredAt > readAt {
		t.Fatalf("want the snapshot restored before the config source is read; logs:\n%s", logs)
	}
	_, after := get(t, "http://"+restarted.admin+"/snapshot", nil)
	if version(before) == "" || version(before) != version(after) {
		t.Fatalf("restarted control plane serves version %q, before the kill %q", version(after), version(before))
	}
	// The data plane reconnects to the new control plane and follows edits.
	writeFile(t, cp.configDir, "one.yaml", vsYAML("one", "one.test", "/", "b"))
	waitFor(t, 10*time.Second, "edit after restart", func() bool { return reaches(t, base+"/y", "one.test", "b") })
	l.stop(t)
	dp.stop(syscall.SIGTERM)
}

// version pulls the first "version" of a /snapshot document.
func version(snapshot string) string {
	i := strings.Index(snapshot, `"version": "`)
	if i < 0 {
		return ""
	}
	rest := snapshot[i+len(`"version": "`):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestZeroFailuresUnderConfigChurn(t *testing.T) {
	base, cp, _, _ := setup(t, "embedded")
	waitFor(t, 10*time.Second, "initial config", func() bool { return reaches(t, base+"/x", "two.test", "a") })
	l := startLoad(t, 50, 40*time.Second, base+"/x", "two.test", func(code int, body string) bool {
		return code == 200 && (strings.HasPrefix(body, "a ") || strings.HasPrefix(body, "b "))
	})
	const changes = 200
	for i := range changes {
		up := []string{"a", "b"}[i%2]
		// Alternate between a plain route and a weighted split with a header,
		// so routes, clusters in use and the virtual host all change.
		vs := vsYAML("two", "two.test", "/", up)
		if i%4 == 1 {
			vs = strings.Replace(vs, "routeAction: {single: {upstream: {name: b}}}",
				"routeAction: {multi: {destinations: [{weight: "+itoa(i)+", destination: {upstream: {name: a}}}, {weight: 7, destination: {upstream: {name: b}}}]}}\n      options: {headerManipulation: {requestHeadersToAdd: [{header: {key: x-change, value: '"+itoa(i)+"'}}]}}", 1)
		}
		writeFile(t, cp.configDir, "two.yaml", vs)
		time.Sleep(60 * time.Millisecond)
	}
	l.stop(t)
	if l.ok.Load() < 1000 {
		t.Fatalf("only %d requests under load; the test did not load the data plane", l.ok.Load())
	}
}
