package azure

import (
	"context"
	"fmt"

	"github.com/gluon-gateway/gluon/fds"
	"github.com/gluon-gateway/gluon/functions"
)

// Finder lists a Function App's functions (and reads its keys) through
// ARM: the fds.Discoverer of Azure.
type Finder struct {
	cfg    Config
	client fds.Reused[*Discoverer]
}

// NewFinder returns the finder of cfg; a non-nil cfgErr is what every
// poll reports instead (mark it fds.NotMine when the app is not to be
// discovered at all).
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
	fns, keys, err := d.Discover(ctx)
	if err != nil {
		return functions.Discovered{}, fds.Classified(fmt.Errorf("Azure %s: %w", ErrorCode(err), err), IsTransient)
	}
	return functions.Discovered{Functions: fns, Source: "arm " + f.cfg.AppName, AzureKeys: keys}, nil
}

// Config is the configuration the finder polls with, to adjust before the
// first poll (a test's Transport).
func (f *Finder) Config() *Config { return &f.cfg }
