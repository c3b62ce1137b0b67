package dataplane

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// transportClient sends the requests of TLS and HTTP/2 clusters through
// net/http's Transport, which a plain HTTP/1.1 pool does not replace.
type transportClient struct {
	t      *http.Transport
	scheme string
}

func (tc *transportClient) roundTrip(r *http.Request, body requestBody, addr, target, host string, deadline time.Time) (*http.Response, error) {
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

func (tc *transportClient) closeIdle() { tc.t.CloseIdleConnections() }

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
func (b *requestBody) request(r *http.Request, ctx context.Context, scheme, addr, target, host string) *http.Request {
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
