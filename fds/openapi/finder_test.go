package openapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/gluon-gateway/gluon/fds"
)

// TestHTTP2OnlyServerIsNotMine: a gRPC-like server that speaks only
// HTTP/2 (h2c, prior knowledge) answers the HTTP/1.1 probe with frames;
// it has no document for this probe, which must say so rather than retry.
func TestHTTP2OnlyServerIsNotMine(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h2 := &http2.Server{}
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go h2.ServeConn(c, &http2.ServeConnOpts{Handler: http.NotFoundHandler()})
		}
	}()
	defer lis.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = NewFinder(Target{BaseURL: "http://" + lis.Addr().String()}).Discover(ctx)
	if !errors.Is(err, fds.ErrNotMine) {
		t.Fatalf("probe of an HTTP/2-only server: %v, want not mine", err)
	}
}
