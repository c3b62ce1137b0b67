// Package benchkit holds what the benchmark commands share: free loopback
// addresses, readiness waits, parallel writers and the printed table.
package benchkit

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

// Row is one line of a benchmark's table: what was measured, its value,
// and the goal ("-": none).
type Row struct{ What, Value, Goal string }

// PrintTable prints rows under a header.
func PrintTable(rows []Row) {
	fmt.Printf("%-62s %-22s %s\n", "measure", "value", "goal")
	for _, r := range rows {
		fmt.Printf("%-62s %-22s %s\n", r.What, r.Value, r.Goal)
	}
}

// FreeAddrs returns n loopback addresses nobody listens on right now.
func FreeAddrs(n int) []string {
	var out []string
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// Percentile of durations, p in [0, 100]; d is sorted in place.
func Percentile(d []time.Duration, p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(float64(len(d)-1)*p/100)]
}

// Ms and Secs format durations for the table.
func Ms(d time.Duration) string   { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
func Secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// WaitReady polls a readiness URL until it answers 200 or ctx ends.
func WaitReady(ctx context.Context, url string) error {
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", url, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Parallel runs do(0..n-1) on workers goroutines and returns the first error.
func Parallel(n, workers int, do func(int) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := do(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// Line is a Row.
func Line(what, value, goal string) Row { return Row{What: what, Value: value, Goal: goal} }

// Profile, when path is set, records a Gluon's CPU profile (8 s, from its
// admin endpoint) into path while a measure runs; stop waits for it.
func Profile(adminAddr, path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get("http://" + adminAddr + "/debug/pprof/profile?seconds=8")
		if err != nil {
			log.Print(err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(path)
		if err != nil {
			log.Print(err)
			return
		}
		defer f.Close()
		_, _ = io.Copy(f, resp.Body)
	}()
	return func() { <-done }
}

// LatencyRows are the p50 and p99 rows of latencies, what describing
// what was timed; the p99 is held to goal.
func LatencyRows(what string, lat []time.Duration, goal string) []Row {
	return []Row{
		Line(fmt.Sprintf("%s, p50 (%d changes)", what, len(lat)), Ms(Percentile(lat, 50)), "-"),
		Line(fmt.Sprintf("%s, p99 (%d changes)", what, len(lat)), Ms(Percentile(lat, 99)), goal),
	}
}
