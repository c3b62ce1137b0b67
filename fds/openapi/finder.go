package openapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/gluon-gateway/gluon/fds"
	"github.com/gluon-gateway/gluon/functions"
)

// Finder discovers one upstream's REST functions: the fds.Discoverer of
// OpenAPI. Its Discoverer remembers the documents it parsed, so it is kept
// for the upstream's lifetime.
type Finder struct {
	d      *Discoverer
	target Target
}

// NewFinder returns the finder of target.
func NewFinder(target Target) *Finder {
	d := &Discoverer{MaxSize: target.Limits.MaxBytes, MaxOperations: target.Limits.MaxOperations}
	return &Finder{d: d, target: target}
}

// Discover implements fds.Discoverer: no document is "not mine", a bad
// one is reported and polled at the interval, anything else is transient.
func (f *Finder) Discover(ctx context.Context) (functions.Discovered, error) {
	res, err := f.d.Discover(ctx, f.target)
	switch {
	case err == nil:
		return functions.Discovered{Functions: res.Functions, Source: res.Source, Skipped: res.Skipped}, nil
	case errors.Is(err, ErrNoDocument):
		return functions.Discovered{}, fds.NotMine(err)
	case errors.Is(err, ErrBadDocument):
		return functions.Discovered{}, err
	case f.speaksOnlyHTTP2(ctx):
		// A gRPC server on an upstream without useHttp2 answers the probe
		// with frames, or resets it: it serves no document this way.
		return functions.Discovered{}, fds.NotMine(fmt.Errorf("the upstream speaks HTTP/2 only (set useHttp2 to discover a gRPC server): %w", err))
	}
	return functions.Discovered{}, fds.Transient(err)
}

// speaksOnlyHTTP2 reports whether the probed server answers HTTP/2's
// cleartext preface: asked after a probe failed, it tells a gRPC server
// from one that is down or slow.
func (f *Finder) speaksOnlyHTTP2(ctx context.Context) bool {
	u, err := url.Parse(f.target.BaseURL)
	if f.target.BaseURL == "" || err != nil || u.Scheme != "http" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return false
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	return fds.AnswersH2CPreface(conn)
}
