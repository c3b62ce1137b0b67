// Package upstream is the data plane's client side: an HTTP/1.1 pool of
// its own (few system calls per request) and net/http's Transport for TLS
// and HTTP/2 clusters, both behind Client. It knows nothing of routes or
// config; the router calls it with the target and host it decided.
package upstream

import (
	"net/http"
	"time"
)

// Client sends one attempt of a request to an endpoint, with the deadline
// (zero: none) bounding the whole exchange, response body included. The
// response's body must be closed.
type Client interface {
	RoundTrip(r *http.Request, body Body, addr, target, host string, deadline time.Time) (*http.Response, error)
	CloseIdle()
}

// maxIdlePerHost keeps enough idle connections per endpoint for bursts of
// concurrent requests to be served without new handshakes.
const maxIdlePerHost = 256
