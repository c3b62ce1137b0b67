package dataplane

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// dnsTimeout bounds one resolution round of a STRICT_DNS cluster.
const dnsTimeout = 5 * time.Second

// startDNS resolves a STRICT_DNS cluster now (the cluster is warm afterwards,
// with or without endpoints, as in Envoy) and then keeps refreshing it every
// dns_refresh_rate until the cluster is retired.
func (c *upstreamCluster) startDNS(log *slog.Logger) {
	ctx := c.ctx
	c.refreshDNS(ctx, log)
	go func() {
		t := time.NewTicker(c.dnsRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.refreshDNS(ctx, log)
			}
		}
	}()
}

// refreshDNS replaces the endpoints with the resolved addresses. On failure
// the previous endpoints are kept, as Envoy does.
func (c *upstreamCluster) refreshDNS(ctx context.Context, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, dnsTimeout)
	defer cancel()
	var eps []endpoint
	var errs []error
	for _, t := range c.dnsTargets {
		ips, err := c.lookup(ctx, t.host)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		hostname := t.hostname
		if hostname == "" {
			hostname = t.host
		}
		for _, ip := range ips {
			eps = append(eps, endpoint{addr: net.JoinHostPort(ip.String(), strconv.FormatUint(uint64(t.port), 10)), hostname: hostname, weight: t.weight})
		}
	}
	if err := errors.Join(errs...); err != nil {
		log.Warn("dns resolution failed", "cluster", c.name, "error", err)
		if c.warm.Load() {
			return
		}
	}
	c.setEndpoints(&endpointSet{eps: eps})
}

// lookup resolves host following dns_lookup_family. AUTO prefers IPv6 and
// V4_PREFERRED IPv4: only the preferred family is used when it has addresses.
func (c *upstreamCluster) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, c.dnsNetwork, host)
	if err != nil || !c.dnsAuto {
		return ips, err
	}
	var preferred, other []netip.Addr
	for _, ip := range ips {
		if ip.Unmap().Is6() == c.dnsPrefer6 {
			preferred = append(preferred, ip.Unmap())
		} else {
			other = append(other, ip.Unmap())
		}
	}
	if len(preferred) > 0 {
		return preferred, nil
	}
	return other, nil
}

// startAllDNS runs the first resolution of several clusters concurrently.
func startAllDNS(clusters []*upstreamCluster, log *slog.Logger) {
	var wg sync.WaitGroup
	for _, c := range clusters {
		wg.Go(func() { c.startDNS(log) })
	}
	wg.Wait()
}
