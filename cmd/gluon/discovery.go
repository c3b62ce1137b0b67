package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/fds/openapi"
	"github.com/gluon-gateway/gluon/functions"
)

// discovery runs one poller per upstream that function discovery applies
// to, writing what it finds into the catalog. Pollers follow the config:
// started for new upstreams, restarted when an upstream's target changes,
// stopped when it goes.
type discovery struct {
	catalog *functions.Catalog
	finder  *openapi.Discoverer
	log     *slog.Logger

	mu      sync.Mutex
	pollers map[functions.UpstreamRef]*poller
}

type poller struct {
	target   openapi.Target
	interval time.Duration
	cancel   context.CancelFunc
}

const defaultPollInterval = 30 * time.Second

func newDiscovery(c *functions.Catalog, log *slog.Logger) *discovery {
	return &discovery{catalog: c, finder: &openapi.Discoverer{}, log: log, pollers: map[functions.UpstreamRef]*poller{}}
}

// sync makes the pollers match the config.
func (d *discovery) sync(ctx context.Context, res api.Resources) {
	mode, interval := discoverySettings(res.Settings)
	want := map[functions.UpstreamRef]openapi.Target{}
	for _, u := range res.Upstreams {
		if u.Spec.Static != nil && discovers(mode, u) {
			want[functions.UpstreamRef{Namespace: u.Namespace, Name: u.Name}] = target(u)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for ref, p := range d.pollers {
		if t, ok := want[ref]; !ok || t != p.target || interval != p.interval {
			p.cancel()
			delete(d.pollers, ref)
			if !ok {
				d.catalog.Delete(ref)
			}
		}
	}
	for ref, t := range want {
		if _, running := d.pollers[ref]; running {
			continue
		}
		pctx, cancel := context.WithCancel(ctx)
		d.pollers[ref] = &poller{target: t, interval: interval, cancel: cancel}
		go d.poll(pctx, ref, t, interval)
	}
}

// poll discovers an upstream's functions every interval. A transient
// failure is retried with exponential back-off; "no document" (not a REST
// service) ends polling until the upstream changes, per Gloo's FDS contract.
func (d *discovery) poll(ctx context.Context, ref functions.UpstreamRef, t openapi.Target, interval time.Duration) {
	backoff := time.Second
	for {
		res, err := d.finder.Discover(ctx, t)
		wait := interval
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			d.catalog.Set(functions.Discovered{Upstream: ref, Functions: res.Functions, Source: res.Source})
			backoff = time.Second
		case errors.Is(err, openapi.ErrNoDocument):
			d.log.Info("no OpenAPI document; not a REST upstream", "upstream", ref.String())
			d.catalog.Delete(ref)
			return
		default:
			d.log.Warn("function discovery failed", "upstream", ref.String(), "err", err, "retry-in", backoff)
			d.catalog.SetError(ref, err)
			wait = min(backoff, interval)
			backoff *= 2
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func discoverySettings(s *api.Settings) (string, time.Duration) {
	mode, interval := api.FDSBlacklist, defaultPollInterval
	if s != nil && s.Spec.Discovery != nil {
		if s.Spec.Discovery.FdsMode != "" {
			mode = s.Spec.Discovery.FdsMode
		}
		if s.Spec.Discovery.PollInterval != nil {
			interval = s.Spec.Discovery.PollInterval.Duration
		}
	}
	return mode, interval
}

// discovers applies the mode and the upstream's opt-in/opt-out label.
func discovers(mode string, u *api.Upstream) bool {
	switch u.Labels[api.FunctionDiscoveryLabel] {
	case "disabled":
		return false
	case "enabled":
		return mode != api.FDSDisabled
	}
	return mode == api.FDSBlacklist
}

func target(u *api.Upstream) openapi.Target {
	s := u.Spec.Static
	if rest := s.ServiceSpec; rest != nil && rest.Rest != nil && rest.Rest.SwaggerInfo != nil {
		return openapi.Target{DocURL: rest.Rest.SwaggerInfo.URL, Inline: rest.Rest.SwaggerInfo.Inline}
	}
	scheme := "http"
	if (s.UseTLS != nil && *s.UseTLS) || u.Spec.SSLConfig != nil {
		scheme = "https"
	}
	h := s.Hosts[0]
	return openapi.Target{BaseURL: scheme + "://" + net.JoinHostPort(h.Addr, strconv.Itoa(int(h.Port)))}
}
