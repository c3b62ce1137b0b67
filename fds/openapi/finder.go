package openapi

import (
	"context"
	"errors"

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
	}
	return functions.Discovered{}, fds.Transient(err)
}
