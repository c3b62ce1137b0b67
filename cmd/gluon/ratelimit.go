package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/gluon-gateway/gluon/gateway"
	"github.com/gluon-gateway/gluon/xds/ratelimit"
)

// redisTimeout bounds each Redis round trip of a rate-limit decision; past
// it the proxies apply their failure mode.
const redisTimeout = 50 * time.Millisecond

// startRateLimitService serves the rate-limit service on its own listener:
// with Redis, a fleet of control planes shares its counters. Proxies are
// told to reach it at advertise, else at the listener's address (loopback
// for an unspecified one: the proxy next to this process).
func startRateLimitService(addr, advertise, redisAddr string, tlsCfg *tls.Config, log *slog.Logger) (*ratelimit.Service, *grpc.Server, gateway.Options, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, gateway.Options{}, fmt.Errorf("rate-limit listener: %w", err)
	}
	backend := ratelimit.Memory()
	if redisAddr != "" {
		backend = ratelimit.Redis(redisAddr, redisTimeout)
	}
	svc := ratelimit.New(ratelimit.Options{Backend: backend, Logger: log})
	opts := recoverRPCs(log)
	if tlsCfg != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	g := grpc.NewServer(opts...)
	svc.Register(g)
	go serveGRPC(g, lis, log)
	if advertise == "" {
		advertise = lis.Addr().String()
	}
	host, port, err := net.SplitHostPort(advertise)
	if err != nil {
		g.Stop()
		return nil, nil, gateway.Options{}, fmt.Errorf("--ratelimit-advertise-addr: %w", err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	p, _ := strconv.Atoi(port)
	return svc, g, gateway.Options{RateLimitAddress: host, RateLimitPort: uint32(p)}, nil
}
