// Command loadgen sends a fixed number of GET requests over a fixed number
// of keep-alive HTTP/1.1 connections (plain, or TLS for https:// URLs; or a
// new connection, so a full TLS handshake, per request with -new-conn) and
// reports requests, errors, duration and rate. bench/proxy.sh measures the proxy's CPU time for a fixed amount
// of work, so the count, not the duration, is what is fixed here.
//
// It writes requests and parses responses by hand (one request in flight
// per connection) rather than using net/http's client, so that it spends as
// little as possible of the CPU it shares with the proxy under test.
package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	addr     string
	tls      *tls.Config // nil: plain TCP
	newConn  bool
	request  []byte
	n        int64
	bodySize int64
	deadline time.Time
}

type result struct {
	done, errors, reconnects atomic.Int64
	mu                       sync.Mutex
	firstErr                 error
}

func (r *result) fail(err error) {
	r.errors.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.firstErr == nil {
		r.firstErr = err
	}
}

func main() {
	target := flag.String("url", "", "http://127.0.0.1:PORT/path to request (required)")
	n := flag.Int64("n", 50000, "number of requests")
	c := flag.Int("c", 32, "number of keep-alive connections")
	host := flag.String("host", "bench.local", "Host header")
	bodySize := flag.Int64("body-size", 100, "expected response body size; -1 accepts any")
	timeout := flag.Duration("timeout", 2*time.Minute, "deadline for the whole run")
	newConn := flag.Bool("new-conn", false, "a new connection per request (with https, a full handshake each)")
	var headers headerFlags
	flag.Var(&headers, "header", `a request header, "Name: value" (repeatable)`)
	flag.Parse()

	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(os.Stderr, "loadgen: -url must be http(s)://host:port/path, got %q\n", *target)
		os.Exit(2)
	}
	cfg := config{
		addr:     u.Host,
		request:  fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gluon-bench\r\n%s\r\n", u.RequestURI(), *host, headers.String()),
		n:        *n,
		bodySize: *bodySize,
		deadline: time.Now().Add(*timeout),
		newConn:  *newConn,
	}
	if u.Scheme == "https" {
		// The bench's certificate is self-signed: what is measured is the
		// proxy's work, not the client's trust. No session cache: each new
		// connection is a full handshake.
		cfg.tls = &tls.Config{InsecureSkipVerify: true, ServerName: *host, NextProtos: []string{"http/1.1"}}
	}

	var res result
	var claimed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *c {
		wg.Go(func() { worker(&cfg, &claimed, &res) })
	}
	wg.Wait()
	elapsed := time.Since(start)

	done, errs := res.done.Load(), res.errors.Load()
	fmt.Printf("requests=%d errors=%d reconnects=%d duration_s=%.6f rps=%.1f\n",
		done, errs, res.reconnects.Load(), elapsed.Seconds(), float64(done)/elapsed.Seconds())
	if errs > 0 || done != cfg.n {
		fmt.Fprintf(os.Stderr, "loadgen: %d of %d requests succeeded; first error: %v\n", done, cfg.n, res.firstErr)
		os.Exit(1)
	}
}

// worker sends requests until the shared count is used up. After a failed
// request it reconnects and goes on, so that the final counts say how much
// failed; after a failed connect it stops.
func worker(cfg *config, claimed *atomic.Int64, res *result) {
	var conn net.Conn
	var br *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for claimed.Add(1) <= cfg.n {
		if time.Now().After(cfg.deadline) {
			res.fail(errors.New("deadline exceeded"))
			return
		}
		if conn == nil {
			var err error
			if conn, err = dial(cfg); err != nil {
				// Nothing listening: stop this worker rather than spin
				// through the count; the shortfall fails the run.
				res.fail(err)
				conn = nil
				return
			}
			_ = conn.SetDeadline(cfg.deadline)
			br = bufio.NewReader(conn)
		}
		keep, err := roundTrip(cfg, conn, br)
		if err != nil {
			res.fail(err)
		} else {
			res.done.Add(1)
		}
		if err != nil || !keep || cfg.newConn {
			// A proxy that closes kept-alive connections pays for new
			// ones; count it, since it changes what is being measured.
			res.reconnects.Add(1)
			conn.Close()
			conn = nil
		}
	}
}

// dial connects, with a TLS handshake for https.
func dial(cfg *config) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", cfg.addr, 5*time.Second)
	if err != nil || cfg.tls == nil {
		return conn, err
	}
	tc := tls.Client(conn, cfg.tls)
	_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// roundTrip sends one request and reads its whole response; keep says
// whether the connection may be reused.
func roundTrip(cfg *config, conn net.Conn, br *bufio.Reader) (keep bool, err error) {
	if _, err := conn.Write(cfg.request); err != nil {
		return false, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return false, err
	}
	got, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		return !resp.Close, fmt.Errorf("status %s", resp.Status)
	case cfg.bodySize >= 0 && got != cfg.bodySize:
		return !resp.Close, fmt.Errorf("body of %d bytes, want %d", got, cfg.bodySize)
	}
	return !resp.Close, nil
}

// headerFlags are -header flags, written as request header lines.
type headerFlags []string

func (h *headerFlags) String() string {
	var b strings.Builder
	for _, line := range *h {
		b.WriteString(line + "\r\n")
	}
	return b.String()
}

func (h *headerFlags) Set(v string) error {
	if !strings.Contains(v, ":") || strings.ContainsAny(v, "\r\n") {
		return fmt.Errorf("want \"Name: value\", got %q", v)
	}
	*h = append(*h, v)
	return nil
}
