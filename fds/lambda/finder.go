package lambda

import (
	"context"

	"github.com/gluon-gateway/gluon/fds"
	"github.com/gluon-gateway/gluon/functions"
)

// Finder lists a region's (or endpoint's) Lambda functions: the
// fds.Discoverer of AWS.
type Finder struct {
	cfg    Config
	client fds.Reused[*Discoverer]
}

// NewFinder returns the finder of cfg; a non-nil cfgErr (a missing
// secret) is what every poll reports instead.
func NewFinder(cfg Config, cfgErr error) *Finder {
	f := &Finder{cfg: cfg}
	f.client = fds.NewReused(cfgErr, func() (*Discoverer, error) { return New(f.cfg) })
	return f
}

// Discover implements fds.Discoverer; throttling and unavailability are
// transient.
func (f *Finder) Discover(ctx context.Context) (functions.Discovered, error) {
	d, err := f.client.Get()
	if err != nil {
		return functions.Discovered{}, err
	}
	fns, err := d.Discover(ctx)
	if err != nil {
		return functions.Discovered{}, fds.Classified(describe(err), IsTransient)
	}
	source := "lambda." + f.cfg.Region
	if f.cfg.Endpoint != "" {
		source = f.cfg.Endpoint
	}
	return functions.Discovered{Functions: fns, Source: source}, nil
}

// Config is the configuration the finder polls with.
func (f *Finder) Config() Config { return f.cfg }
