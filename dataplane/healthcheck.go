package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
)

// healthCheck is a compiled active HealthCheck: every interval each host
// is probed (HTTP GET, or a TCP connect when http is nil); unhealthy
// failures in a row take it out of rotation, healthy passes bring it back.
// Hosts start healthy, and are probed at once.
type healthCheck struct {
	timeout, interval  time.Duration
	unhealthy, healthy int
	http               *httpCheck
}

type httpCheck struct {
	path, host string
	expected   [][2]int64 // [start, end)
}

// healthCheckBodyBytes bounds how much of a check's response is read.
const healthCheckBodyBytes = 4 << 10

func compileHealthChecks(in []*core.HealthCheck, clusterName string) (*healthCheck, error) {
	switch len(in) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, errors.New("only one health check per cluster is supported")
	}
	hc := in[0]
	if err := onlyFields(hc, "timeout", "interval", "unhealthy_threshold", "healthy_threshold", "http_health_check", "tcp_health_check"); err != nil {
		return nil, err
	}
	out := &healthCheck{unhealthy: int(hc.GetUnhealthyThreshold().GetValue()), healthy: int(hc.GetHealthyThreshold().GetValue())}
	var err error
	if out.timeout, err = duration(hc.GetTimeout()); err != nil || out.timeout <= 0 {
		return nil, fmt.Errorf("health_checks[0].timeout must be positive")
	}
	if out.interval, err = duration(hc.GetInterval()); err != nil || out.interval <= 0 {
		return nil, fmt.Errorf("health_checks[0].interval must be positive")
	}
	if out.unhealthy < 1 || out.healthy < 1 {
		return nil, fmt.Errorf("health_checks[0]: thresholds must be at least 1")
	}
	switch {
	case hc.GetHttpHealthCheck() != nil:
		h := hc.GetHttpHealthCheck()
		if err := onlyFields(h, "host", "path", "expected_statuses"); err != nil {
			return nil, err
		}
		out.http = &httpCheck{path: h.GetPath(), host: h.GetHost()}
		if out.http.host == "" {
			out.http.host = clusterName // Envoy's default
		}
		for _, r := range h.GetExpectedStatuses() {
			out.http.expected = append(out.http.expected, [2]int64{r.GetStart(), r.GetEnd()})
		}
		if len(out.http.expected) == 0 {
			out.http.expected = [][2]int64{{200, 201}}
		}
	case hc.GetTcpHealthCheck() != nil:
		if err := onlyFields(hc.GetTcpHealthCheck()); err != nil {
			return nil, fmt.Errorf("tcp_health_check: only a plain connect is supported: %w", err)
		}
	default:
		return nil, errors.New("health_checks[0]: only http_health_check and tcp_health_check are supported")
	}
	return out, nil
}

// startHealthChecks probes the cluster's hosts until ctx ends.
func (c *upstreamCluster) startHealthChecks(ctx context.Context, log *slog.Logger) {
	hc := c.healthCheck
	probe := c.tcpProbe
	if hc.http != nil {
		tr := &http.Transport{TLSClientConfig: c.tls, DisableKeepAlives: true, DialContext: (&net.Dialer{}).DialContext}
		client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		probe = func(ctx context.Context, h *host) error { return c.httpProbe(ctx, client, h) }
	}
	go func() {
		t := time.NewTicker(hc.interval)
		defer t.Stop()
		for {
			c.checkRound(ctx, probe, log)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// checkRound probes every host at once and applies the results together.
func (c *upstreamCluster) checkRound(ctx context.Context, probe func(context.Context, *host) error, log *slog.Logger) {
	hosts := c.hostsSnapshot()
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, c.healthCheck.timeout)
			defer cancel()
			errs[i] = probe(pctx, h)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	hh := &c.health
	hh.mu.Lock()
	defer hh.mu.Unlock()
	changed := false
	for i, h := range hosts {
		if hh.byAddr[h.addr] != h {
			continue // replaced or removed while probing
		}
		if c.recordCheck(h, errs[i] == nil) {
			changed = true
			log.Info("upstream endpoint health changed", "cluster", c.name, "endpoint", h.addr, "healthy", !h.hcFailed, "error", errs[i])
		}
	}
	if changed {
		c.rebuildLocked()
	}
}

// recordCheck counts one result; true when the host changed state.
func (c *upstreamCluster) recordCheck(h *host, passed bool) bool {
	if passed != h.hcFailed { // agrees with the current state
		h.hcStreak = 0
		return false
	}
	h.hcStreak++
	threshold := c.healthCheck.unhealthy
	if h.hcFailed {
		threshold = c.healthCheck.healthy
	}
	if h.hcStreak < threshold {
		return false
	}
	h.hcFailed, h.hcStreak = !passed, 0
	return true
}

func (c *upstreamCluster) tcpProbe(ctx context.Context, h *host) error {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", h.addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

func (c *upstreamCluster) httpProbe(ctx context.Context, client *http.Client, h *host) error {
	scheme := "http"
	if c.tls != nil {
		scheme = "https"
	}
	hc := c.healthCheck.http
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+h.addr+hc.path, nil)
	if err != nil {
		return err
	}
	req.Host = hc.host
	req.Header.Set("User-Agent", "Envoy/HC")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.CopyN(io.Discard, resp.Body, healthCheckBodyBytes)
	resp.Body.Close()
	for _, r := range hc.expected {
		if int64(resp.StatusCode) >= r[0] && int64(resp.StatusCode) < r[1] {
			return nil
		}
	}
	return fmt.Errorf("status %d", resp.StatusCode)
}
