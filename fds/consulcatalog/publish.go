package consulcatalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/gluon-gateway/gluon/functions"
)

// Publisher writes a catalog under a prefix: what changed, and only that.
type Publisher struct {
	kv      *consulapi.KV
	prefix  string
	catalog *functions.Catalog
	log     *slog.Logger
	changed <-chan struct{}
}

// NewPublisher returns a publisher of c under prefix; make it once, and
// Run it whenever this replica leads.
func NewPublisher(kv *consulapi.KV, prefix string, c *functions.Catalog, log *slog.Logger) *Publisher {
	return &Publisher{kv: kv, prefix: prefix, catalog: c, log: log, changed: c.Watch()}
}

// publishRetry is how long a failed write waits, unless the catalog
// changes first.
const publishRetry = time.Second

// Run publishes the catalog, then each change of it, until ctx ends. It
// starts from what is published (a former leader's results), so only
// differences are written, and entries of upstreams gone are deleted.
func (p *Publisher) Run(ctx context.Context) {
	var published map[string][]byte
	for {
		var err error
		if published == nil {
			published, err = p.read(ctx)
		}
		if err == nil {
			err = p.publish(ctx, published)
		}
		var retry <-chan time.Time
		if err != nil && ctx.Err() == nil {
			p.log.Error("publishing the function catalog; trying again", "err", err, "in", publishRetry)
			retry = time.After(publishRetry)
		}
		select {
		case <-ctx.Done():
			return
		case <-p.changed:
		case <-retry:
		}
	}
}

func (p *Publisher) read(ctx context.Context) (map[string][]byte, error) {
	pairs, _, err := p.kv.List(p.prefix, (&consulapi.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p.prefix, err)
	}
	out := make(map[string][]byte, len(pairs))
	for _, kv := range pairs {
		out[kv.Key] = kv.Value
	}
	return out, nil
}

// publish makes the entries under the prefix the catalog's, recording in
// published what it wrote.
func (p *Publisher) publish(ctx context.Context, published map[string][]byte) error {
	want := map[string][]byte{}
	var errs []error
	for ref, d := range p.catalog.Snapshot() {
		v, err := encode(d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		want[entryKey(p.prefix, ref)] = v
	}
	w := (&consulapi.WriteOptions{}).WithContext(ctx)
	for k, v := range want {
		if bytes.Equal(published[k], v) {
			continue
		}
		if _, err := p.kv.Put(&consulapi.KVPair{Key: k, Value: v}, w); err != nil {
			errs = append(errs, fmt.Errorf("writing %s: %w", k, err))
			continue
		}
		published[k] = v
	}
	for k := range published {
		if _, ok := want[k]; ok {
			continue
		}
		if _, err := p.kv.Delete(k, w); err != nil {
			errs = append(errs, fmt.Errorf("deleting %s: %w", k, err))
			continue
		}
		delete(published, k)
	}
	return errors.Join(errs...)
}
