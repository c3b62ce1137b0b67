package controlplane

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gluon-gateway/gluon/api"
)

const (
	// jwksProbeTimeout bounds one probe of a remote JWKS.
	jwksProbeTimeout = 3 * time.Second
	// jwksRetryInterval is how often a JWKS that could not be fetched is
	// tried again, so that its virtual service recovers by itself.
	jwksRetryInterval  = 10 * time.Second
	maxProbedJWKSBytes = 1 << 20
)

// jwksTarget is a remote JWKS as configured: its URL and the address of
// the Upstream it is fetched through ("" when the Upstream has none the
// control plane knows: then the URL's own host).
type jwksTarget struct {
	url, addr string
	tls       bool
}

// jwksProbe fetches the remote JWKS a configuration names when it first
// names them, so that one that cannot be fetched (or is no key set)
// rejects its virtual service at configuration time, with the reason,
// rather than fail each request. A JWKS fetched once is not probed again
// while configured: the proxies keep its keys when its server goes down
// later. A failing one is tried again until it succeeds.
type jwksProbe struct {
	mu       sync.Mutex
	results  map[jwksTarget]string // "" fetched; else why not
	inFlight map[jwksTarget]bool
	// changed is called when a result changes what translation sees.
	changed func(context.Context)
	retry   time.Duration
}

func newJWKSProbe(changed func(context.Context)) *jwksProbe {
	return &jwksProbe{results: map[jwksTarget]string{}, inFlight: map[jwksTarget]bool{}, changed: changed, retry: jwksRetryInterval}
}

// failures are the configured JWKS URLs that could not be fetched, with why.
func (j *jwksProbe) failures() map[string]string {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := map[string]string{}
	for t, why := range j.results {
		if why != "" {
			out[t.url] = why
		}
	}
	return out
}

// sync probes the targets not probed yet and forgets the others.
func (j *jwksProbe) sync(ctx context.Context, targets map[jwksTarget]bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	maps.DeleteFunc(j.results, func(t jwksTarget, _ string) bool { return !targets[t] })
	for t := range targets {
		if _, done := j.results[t]; !done && !j.inFlight[t] {
			j.inFlight[t] = true
			go j.run(ctx, t)
		}
	}
}

// run probes a target until it succeeds, or it is no longer configured.
func (j *jwksProbe) run(ctx context.Context, t jwksTarget) {
	defer func() { j.mu.Lock(); delete(j.inFlight, t); j.mu.Unlock() }()
	for {
		why := ""
		if err := fetchJWKS(ctx, t); err != nil {
			why = err.Error()
		}
		j.mu.Lock()
		prev, had := j.results[t]
		j.results[t] = why
		j.mu.Unlock()
		if !had && why != "" || had && prev != why {
			j.changed(ctx)
		}
		if why == "" {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(j.retry):
		}
		j.mu.Lock()
		_, still := j.results[t]
		j.mu.Unlock()
		if !still {
			return // no longer configured
		}
	}
}

// fetchJWKS gets the key set through the target's address, with the
// URL's host as Host (and TLS server name).
func fetchJWKS(ctx context.Context, t jwksTarget) error {
	u, err := url.Parse(t.url)
	if err != nil {
		return err
	}
	dialer := &net.Dialer{Timeout: jwksProbeTimeout}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if t.addr != "" {
				addr = t.addr
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12},
	}
	defer tr.CloseIdleConnections()
	scheme := u.Scheme
	if t.tls {
		scheme = "https"
	}
	ctx, cancel := context.WithTimeout(ctx, jwksProbeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+u.Host+u.RequestURI(), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot be fetched: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cannot be fetched: status %d", resp.StatusCode)
	}
	doc, err := io.ReadAll(io.LimitReader(resp.Body, maxProbedJWKSBytes))
	if err != nil {
		return fmt.Errorf("cannot be fetched: %w", err)
	}
	if err := api.CheckJWKS(string(doc)); err != nil {
		return fmt.Errorf("is no key set: %w", err)
	}
	return nil
}

// jwksTargets are the remote JWKS the resources (virtual services and
// route options) name, each with the first address of its Upstream: a
// static host, or a Kubernetes endpoint.
func jwksTargets(res api.Resources) map[jwksTarget]bool {
	ups := map[api.ResourceRef]*api.Upstream{}
	for _, u := range res.Upstreams {
		ups[api.ResourceRef{Name: u.Name, Namespace: u.Namespace}] = u
	}
	out := map[jwksTarget]bool{}
	add := func(ns string, providers map[string]api.JWTProvider) {
		for _, p := range providers {
			if r := p.JWKS.Remote; r != nil {
				if u := ups[r.UpstreamRef.Ref(ns)]; u != nil {
					t := jwksTarget{url: r.URL}
					t.addr, t.tls = upstreamAddress(&res, u)
					out[t] = true
				}
			}
		}
	}
	for _, vs := range res.VirtualServices {
		if o := vs.Spec.VirtualHost.Options; o != nil && o.JWT != nil {
			add(vs.Namespace, o.JWT.Providers)
		}
	}
	for _, ro := range res.RouteOptions {
		add(ro.Namespace, ro.Spec.JWTProviders)
	}
	return out
}

func upstreamAddress(res *api.Resources, u *api.Upstream) (string, bool) {
	useTLS := u.Spec.SSLConfig != nil
	switch {
	case u.Spec.Static != nil && len(u.Spec.Static.Hosts) > 0:
		h := u.Spec.Static.Hosts[0]
		return net.JoinHostPort(h.Addr, strconv.Itoa(int(h.Port))), useTLS || u.Spec.Static.UseTLS != nil && *u.Spec.Static.UseTLS
	case u.Spec.Kube != nil:
		k := u.Spec.Kube
		if eps := res.EndpointsFor(k.ServiceNamespace, k.ServiceName, k.ServicePort); len(eps) > 0 {
			return net.JoinHostPort(eps[0].IP, strconv.Itoa(int(eps[0].Port))), useTLS
		}
	}
	return "", useTLS
}
