package dataplane

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

// webSocketUpgrade is the only upgrade type the data plane tunnels.
const webSocketUpgrade = "websocket"

// compileListenerUpgrades reads the connection manager's upgrade_configs:
// whether WebSocket upgrades are let through by default.
func compileListenerUpgrades(ups []*hcmv3.HttpConnectionManager_UpgradeConfig) (bool, error) {
	on := false
	for i, u := range ups {
		if err := onlyFields(u, "upgrade_type", "enabled"); err != nil {
			return false, fmt.Errorf("upgrade_configs[%d]: %w", i, err)
		}
		if !strings.EqualFold(u.GetUpgradeType(), webSocketUpgrade) {
			return false, fmt.Errorf("upgrade_configs[%d]: upgrade type %q is not supported (websocket)", i, u.GetUpgradeType())
		}
		on = u.GetEnabled() == nil || u.GetEnabled().GetValue()
	}
	return on, nil
}

// compileRouteUpgrades reads a route's upgrade_configs: nil when it keeps
// the listener's setting.
func compileRouteUpgrades(ups []*route.RouteAction_UpgradeConfig) (*bool, error) {
	var out *bool
	for i, u := range ups {
		if err := onlyFields(u, "upgrade_type", "enabled"); err != nil {
			return nil, fmt.Errorf("upgrade_configs[%d]: %w", i, err)
		}
		if !strings.EqualFold(u.GetUpgradeType(), webSocketUpgrade) {
			return nil, fmt.Errorf("upgrade_configs[%d]: upgrade type %q is not supported (websocket)", i, u.GetUpgradeType())
		}
		on := u.GetEnabled() == nil || u.GetEnabled().GetValue()
		out = &on
	}
	return out, nil
}

// allowsWebSockets is the route's WebSocket setting, else the listener's.
func (a *forwardAction) allowsWebSockets(lc *listenerConfig) bool {
	if a.webSockets != nil {
		return *a.webSockets
	}
	return lc.webSockets
}

// isWebSocketUpgrade reports whether a request asks to become a WebSocket.
func isWebSocketUpgrade(r *http.Request) bool {
	return r.ProtoMajor == 1 && h1.ContainsToken(r.Header["Connection"], "upgrade") &&
		h1.ContainsToken(r.Header["Upgrade"], webSocketUpgrade)
}

// tunnel forwards a WebSocket upgrade: the handshake goes to one endpoint
// on a connection of its own, bounded by the route timeout; a 101 answer
// turns both connections into one tunnel, closed after idle of nothing
// either way. Any other answer is relayed as a response.
func (rt *router) tunnel(w http.ResponseWriter, r *http.Request, vh *virtualHost, cr *compiledRoute, cl *upstreamCluster, target, host string) {
	a := cr.forward
	release, err := cl.breakers.admit(r.Context())
	if err != nil {
		if errors.Is(err, errOverflow) {
			overloaded(w)
		}
		return
	}
	defer release()
	ep := cl.pick(0, false)
	if ep == nil {
		localReply(w, http.StatusServiceUnavailable, msgNoHealthyUpstream)
		return
	}
	up, err := cl.dialTunnel(r.Context(), ep.addr, "http/1.1")
	if err != nil {
		cl.observe(ep, http.StatusServiceUnavailable)
		rt.log.Debug("websocket upstream connect failed", "cluster", cl.name, "endpoint", ep.addr, "error", err)
		localReply(w, http.StatusServiceUnavailable, msgConnectFailure)
		return
	}
	defer up.Close()
	if a.timeout > 0 {
		_ = up.SetDeadline(time.Now().Add(a.timeout))
	}
	resp, upReader, err := handshake(up, r, target, host)
	if err != nil {
		cl.observe(ep, http.StatusServiceUnavailable)
		localReply(w, http.StatusServiceUnavailable, msgReset)
		return
	}
	cl.observe(ep, resp.StatusCode)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		rt.copyResponse(w, r, resp, vh, cr)
		return
	}
	_ = up.SetDeadline(time.Time{})
	for k, vv := range resp.Header {
		w.Header()[k] = vv
	}
	rt.responseHeaders(w.Header(), vh, cr)
	w.WriteHeader(http.StatusSwitchingProtocols)
	hj, ok := w.(http.Hijacker)
	if !ok {
		return // HTTP/2 never gets here: isWebSocketUpgrade wants HTTP/1
	}
	down, downRW, err := hj.Hijack()
	if err != nil {
		rt.log.Debug("websocket hijack failed", "error", err)
		return
	}
	defer down.Close()
	idle := rt.lc.streamIdle
	if a.idleTimeout > 0 {
		idle = a.idleTimeout
	}
	pipe(down, downRW.Reader, up, upReader, idle)
}

// dialTunnel opens a connection of its own to an endpoint, with the
// cluster's TLS offering the ALPN protocols given (HTTP/1.1 for an
// upgrade, an HTTP/1.1 affair; none for TCP).
func (c *upstreamCluster) dialTunnel(ctx context.Context, addr string, protos ...string) (net.Conn, error) {
	d := &net.Dialer{Timeout: c.connectTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil || c.tls == nil {
		return conn, err
	}
	cfg := c.tls.Clone()
	cfg.NextProtos = protos
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, c.connectTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// handshake sends the upgrade request and reads the answer's head.
func handshake(up net.Conn, r *http.Request, target, host string) (*http.Response, *bufio.Reader, error) {
	bw := bufio.NewWriter(up)
	fmt.Fprintf(bw, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.Method, target, host)
	h := r.Header.Clone()
	for _, hop := range []string{"Keep-Alive", "Proxy-Connection", "Te", "Transfer-Encoding", "Trailer"} {
		h.Del(hop)
	}
	h.Set("Connection", "Upgrade")
	if err := h.Write(bw); err != nil {
		return nil, nil, err
	}
	if _, err := bw.WriteString("\r\n"); err != nil {
		return nil, nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(up)
	resp, err := http.ReadResponse(br, r)
	return resp, br, err
}

// pipe copies both ways until either side closes or idle passes with
// nothing sent either way; then both connections close.
func pipe(down net.Conn, downR io.Reader, up net.Conn, upR io.Reader, idle time.Duration) {
	var last idleClock
	last.touch()
	var once sync.Once
	closeBoth := func() { once.Do(func() { down.Close(); up.Close() }) }
	var wg sync.WaitGroup
	copyHalf := func(dst net.Conn, src io.Reader) {
		defer wg.Done()
		defer closeBoth()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				last.touch()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	wg.Add(2)
	go copyHalf(up, downR)
	go copyHalf(down, upR)
	if idle > 0 {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		last.watch(idle, done, closeBoth)
	}
	wg.Wait()
}

// idleClock is when a tunnel last carried bytes.
type idleClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *idleClock) touch() {
	c.mu.Lock()
	c.at = time.Now()
	c.mu.Unlock()
}

// watch calls expire once idle passes since the last touch, unless done
// closes first.
func (c *idleClock) watch(idle time.Duration, done <-chan struct{}, expire func()) {
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			c.mu.Lock()
			left := idle - time.Since(c.at)
			c.mu.Unlock()
			if left <= 0 {
				expire()
				return
			}
			t.Reset(left)
		}
	}
}
