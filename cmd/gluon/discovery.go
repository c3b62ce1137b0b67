package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/fds/lambda"
	"github.com/gluon-gateway/gluon/fds/openapi"
	"github.com/gluon-gateway/gluon/functions"
)

// discovery runs one poller per upstream that function discovery applies
// to, writing what it finds into the catalog. Pollers follow the config:
// started for new upstreams, restarted when what they poll changes (an
// address, a document URL, a secret), stopped when the upstream goes.
type discovery struct {
	catalog *functions.Catalog
	log     *slog.Logger

	mu      sync.Mutex
	pollers map[functions.UpstreamRef]*poller
}

type poller struct {
	key      string // what the poller polls; a change restarts it
	interval time.Duration
	cancel   context.CancelFunc
}

// finder discovers one upstream's functions (the Upstream field is the
// poller's to set).
type finder interface {
	find(ctx context.Context) (functions.Discovered, error)
	// notMine reports an error that means "this upstream has no functions
	// of my kind": polling stops until the upstream changes.
	notMine(error) bool
	// transient reports an error worth retrying soon, with back-off.
	transient(error) bool
}

const defaultPollInterval = 30 * time.Second

func newDiscovery(c *functions.Catalog, log *slog.Logger) *discovery {
	return &discovery{catalog: c, log: log, pollers: map[functions.UpstreamRef]*poller{}}
}

// sync makes the pollers match the config.
func (d *discovery) sync(ctx context.Context, res api.Resources) {
	mode, interval := discoverySettings(res.Settings)
	want := map[functions.UpstreamRef]target{}
	for _, u := range res.Upstreams {
		if !discovers(mode, u) {
			continue
		}
		if t, ok := targetOf(u, &res); ok {
			want[functions.UpstreamRef{Namespace: u.Namespace, Name: u.Name}] = t
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for ref, p := range d.pollers {
		if t, ok := want[ref]; !ok || t.key != p.key || interval != p.interval {
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
		d.pollers[ref] = &poller{key: t.key, interval: interval, cancel: cancel}
		go d.poll(pctx, ref, t.finder, interval)
	}
}

// poll discovers an upstream's functions every interval. A transient
// failure is retried with exponential back-off; "not my kind" ends polling
// until the upstream changes, per Gloo's FDS contract.
func (d *discovery) poll(ctx context.Context, ref functions.UpstreamRef, f finder, interval time.Duration) {
	backoff := time.Second
	for {
		found, err := f.find(ctx)
		wait := interval
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			found.Upstream = ref
			d.catalog.Set(found)
			backoff = time.Second
		case f.notMine(err):
			d.log.Info("no functions of a known kind on this upstream", "upstream", ref.String(), "reason", err)
			d.catalog.Delete(ref)
			return
		default:
			d.log.Warn("function discovery failed", "upstream", ref.String(), "err", err, "retry-in", backoff)
			d.catalog.SetError(ref, err)
			if f.transient(err) {
				wait = min(backoff, interval)
				backoff *= 2
			}
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

// target is a finder and a key that changes whenever what it polls does.
type target struct {
	key    string
	finder finder
}

// targetOf says what to discover on an upstream; not ok while there is
// nothing to ask yet (a Service without ready endpoints).
func targetOf(u *api.Upstream, res *api.Resources) (target, bool) {
	switch {
	case u.Spec.AWS != nil:
		return lambdaTarget(u, u.Spec.AWS, res.Secrets), true
	case u.Spec.Azure != nil:
		return azureTarget(u, u.Spec.Azure, res.Secrets), true
	case u.Spec.Kube != nil:
		return kubeOpenAPITarget(u, res)
	}
	return openAPITarget(u), true
}

// openAPIFinder probes a static upstream for an OpenAPI document.
type openAPIFinder struct {
	d *openapi.Discoverer
	t openapi.Target
}

func (f openAPIFinder) find(ctx context.Context) (functions.Discovered, error) {
	res, err := f.d.Discover(ctx, f.t)
	return functions.Discovered{Functions: res.Functions, Source: res.Source}, err
}

func (openAPIFinder) notMine(err error) bool   { return errors.Is(err, openapi.ErrNoDocument) }
func (openAPIFinder) transient(err error) bool { return !errors.Is(err, openapi.ErrBadDocument) }

func openAPITarget(u *api.Upstream) target {
	s := u.Spec.Static
	useTLS := (s.UseTLS != nil && *s.UseTLS) || u.Spec.SSLConfig != nil
	return restTarget(s.ServiceSpec, useTLS, s.Hosts[0].Addr, s.Hosts[0].Port)
}

// kubeOpenAPITarget probes a Service's first ready endpoint: the control
// plane may run outside the cluster network, where cluster IPs mean nothing.
func kubeOpenAPITarget(u *api.Upstream, res *api.Resources) (target, bool) {
	k := u.Spec.Kube
	eps := res.EndpointsFor(k.ServiceNamespace, k.ServiceName, k.ServicePort)
	hasDoc := k.ServiceSpec != nil && k.ServiceSpec.Rest != nil && k.ServiceSpec.Rest.SwaggerInfo != nil
	if len(eps) == 0 && !hasDoc {
		return target{}, false
	}
	addr, port := "", uint32(0)
	if len(eps) > 0 {
		addr, port = eps[0].IP, eps[0].Port
	}
	return restTarget(k.ServiceSpec, u.Spec.SSLConfig != nil, addr, port), true
}

func restTarget(spec *api.ServiceSpec, useTLS bool, addr string, port uint32) target {
	t := openapi.Target{}
	if spec != nil && spec.Rest != nil && spec.Rest.SwaggerInfo != nil {
		t.DocURL, t.Inline = spec.Rest.SwaggerInfo.URL, spec.Rest.SwaggerInfo.Inline
	} else {
		scheme := "http"
		if useTLS {
			scheme = "https"
		}
		t.BaseURL = scheme + "://" + net.JoinHostPort(addr, strconv.Itoa(int(port)))
	}
	return target{key: fmt.Sprintf("openapi %+v", t), finder: openAPIFinder{d: &openapi.Discoverer{}, t: t}}
}

// lambdaFinder lists a region's (or endpoint's) Lambda functions.
type lambdaFinder struct {
	cfg lambda.Config
	// err is a configuration problem (a missing secret) reported on every poll.
	err error
	// d is made by the first poll and kept, so that an assumed role's
	// credentials are reused until they expire, not asked for every poll.
	d *lambda.Discoverer
}

func (f *lambdaFinder) find(ctx context.Context) (functions.Discovered, error) {
	if f.err != nil {
		return functions.Discovered{}, f.err
	}
	if f.d == nil {
		d, err := lambda.New(f.cfg)
		if err != nil {
			return functions.Discovered{}, err
		}
		f.d = d
	}
	fns, err := f.d.Discover(ctx)
	if err != nil {
		// Lead with AWS's error code: it is what an operator searches for.
		return functions.Discovered{}, fmt.Errorf("AWS %s: %w", lambda.ErrorCode(err), err)
	}
	source := "lambda." + f.cfg.Region
	if f.cfg.Endpoint != "" {
		source = f.cfg.Endpoint
	}
	return functions.Discovered{Functions: fns, Source: source}, nil
}

func (*lambdaFinder) notMine(error) bool         { return false }
func (f *lambdaFinder) transient(err error) bool { return f.err == nil && lambda.IsTransient(err) }

func lambdaTarget(u *api.Upstream, a *api.AWSUpstream, secrets []*api.Secret) target {
	cfg := lambda.Config{Region: a.Region, Endpoint: a.Endpoint, RoleARN: a.RoleArn, STSEndpoint: a.STSEndpoint}
	f := lambdaFinder{}
	switch {
	case a.SecretRef != nil:
		ref := a.SecretRef.Ref(u.Namespace)
		s := findSecret(secrets, ref)
		if s == nil || s.Spec.AWS == nil {
			f.err = fmt.Errorf("secret %s not found or not an aws secret", ref)
			break
		}
		cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken = s.Spec.AWS.AccessKey, s.Spec.AWS.SecretKey, s.Spec.AWS.SessionToken
	default:
		// The default chain, as far as a control plane has one: its
		// environment.
		cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
	}
	f.cfg = cfg
	// The key must change with the credentials without holding them.
	sum := sha256.Sum256([]byte(cfg.AccessKeyID + "\x00" + cfg.SecretAccessKey + "\x00" + cfg.SessionToken))
	key := fmt.Sprintf("aws %s %s %s %s %s %v", cfg.Region, cfg.Endpoint, cfg.RoleARN, cfg.STSEndpoint, hex.EncodeToString(sum[:8]), f.err)
	return target{key: key, finder: &f}
}

func findSecret(secrets []*api.Secret, ref api.ResourceRef) *api.Secret {
	for _, s := range secrets {
		if s.Name == ref.Name && s.Namespace == ref.Namespace {
			return s
		}
	}
	return nil
}
