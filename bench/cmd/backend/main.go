// Command backend is the origin server of bench/proxy.sh: it answers every
// request with the same small body, so that what differs between runs is the
// proxy in front of it, not the work behind it.
package main

import (
	"bytes"
	"flag"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	size := flag.Int("body-size", 100, "response body size in bytes")
	flag.Parse()

	body := bytes.Repeat([]byte("x"), *size)
	length := strconv.Itoa(len(body))
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// A fixed Content-Length keeps responses unchunked on both sides
		// of the proxy, as a typical small API response would be.
		h := w.Header()
		h["Content-Type"] = []string{"text/plain"}
		h["Content-Length"] = []string{length}
		_, _ = w.Write(body)
	})

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("backend listening on %s", lis.Addr())
	// Keep-alive is net/http's default; the long idle timeout keeps the
	// proxies' pooled connections open between benchmark rounds.
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	log.Fatal(srv.Serve(lis))
}
