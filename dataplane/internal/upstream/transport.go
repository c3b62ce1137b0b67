package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Transport sends the requests of TLS and HTTP/2 clusters through
// net/http's Transport, which a plain HTTP/1.1 pool does not replace.
type Transport struct {
	t      *http.Transport
	scheme string
}

func (tc *Transport) RoundTrip(r *http.Request, body Body, addr, target, host string, deadline time.Time) (*http.Response, error) {
	ctx, cancel := r.Context(), context.CancelFunc(nil)
	if !deadline.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, deadline)
	}
	resp, err := tc.t.RoundTrip(body.request(r, ctx, tc.scheme, addr, target, host))
	switch {
	case cancel == nil:
	case err != nil:
		cancel()
	default:
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	}
	return resp, err
}

func (tc *Transport) CloseIdle() { tc.t.CloseIdleConnections() }

// cancelOnClose ends a try's context once its response body is done with:
// the deadline bounds the body too.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// request builds one upstream attempt. The downstream request is shallow
// copied: its (already rewritten) header map is shared across attempts.
func (b *Body) request(r *http.Request, ctx context.Context, scheme, addr, target, host string) *http.Request {
	out := r.WithContext(ctx)
	u := &url.URL{Scheme: scheme, Host: addr}
	p, q, hasQuery := strings.Cut(target, "?")
	u.RawQuery, u.ForceQuery = q, hasQuery && q == ""
	if strings.HasPrefix(p, "//") {
		// An opaque "//x" would be written as an absolute URL; go through Path.
		u.Path, _ = url.PathUnescape(p)
		u.RawPath = p
	} else {
		u.Opaque = p // keeps the path byte-for-byte, escapes included
	}
	out.URL = u
	out.RequestURI = ""
	out.Host = host
	out.Close = false
	out.TransferEncoding = nil
	out.ContentLength = b.length
	out.Body, out.GetBody = b.stream, nil
	if buf := b.buf; buf != nil {
		out.Body = io.NopCloser(bytes.NewReader(buf))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	}
	return out
}

// ConnectError marks dial failures, which Envoy reports as "connection failure".
type ConnectError struct{ err error }

func (e *ConnectError) Error() string { return e.err.Error() }
func (e *ConnectError) Unwrap() error { return e.err }

// NewTransport returns the client of a TLS or HTTP/2 cluster (or, with
// neither, a plain HTTP/1.1 one through net/http): scheme is https when
// tlsCfg is set.
func NewTransport(connectTimeout time.Duration, tlsCfg *tls.Config, h2 bool, idle time.Duration, open *atomic.Int64) *Transport {
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	return &Transport{t: newHTTPTransport(connectTimeout, tlsCfg, h2, idle, open), scheme: scheme}
}

func newHTTPTransport(connectTimeout time.Duration, tlsCfg *tls.Config, h2 bool, idle time.Duration, open *atomic.Int64) *http.Transport {
	dialer := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	var protocols http.Protocols
	switch {
	case h2 && tlsCfg != nil:
		protocols.SetHTTP2(true)
	case h2:
		protocols.SetUnencryptedHTTP2(true)
	default:
		protocols.SetHTTP1(true)
	}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, &ConnectError{err: err}
			}
			return counted(conn, open), nil
		},
		TLSClientConfig:     tlsCfg,
		Protocols:           &protocols,
		MaxIdleConnsPerHost: maxIdlePerHost,
		IdleConnTimeout:     idle,
		// The proxy forwards bytes as they are: no transparent gzip (and, with
		// Proxy unset, no proxies from the environment).
		DisableCompression: true,
	}
}
