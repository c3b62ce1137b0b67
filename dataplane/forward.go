package dataplane

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	msgNoHealthyUpstream = "no healthy upstream"
	msgTimeout           = "upstream request timeout"
	msgConnectFailure    = "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
	msgReset             = "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
)

// copyBufPool holds the buffers that stream response bodies downstream.
var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// forward proxies the request to the route's cluster, retrying per the route's
// retry policy, and streams the response back.
func (rt *router) forward(w http.ResponseWriter, r *http.Request, vh *virtualHost, cr *compiledRoute, target, path string) {
	a := cr.forward
	cl := rt.clusters[a.pickCluster()]
	if cl == nil {
		localReply(w, a.notFoundStatus, "")
		return
	}
	rt.setForwardingHeaders(r)
	rt.requestHeaders(r.Header, vh, cr)
	target = a.rewritePath(&cr.path, target, path)
	host := r.Host
	if a.hostRewrite != "" {
		host = a.hostRewrite
	}

	ctx := r.Context()
	if a.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.timeout)
		defer cancel()
	}
	body, err := newRequestBody(r, a.retry)
	if err != nil {
		localReply(w, http.StatusBadRequest, "")
		return
	}
	retries := 0
	if a.retry != nil && body.replayable() {
		retries = a.retry.numRetries
	}

	for attempt := 0; ; attempt++ {
		ep := cl.pick()
		if ep == nil {
			localReply(w, http.StatusServiceUnavailable, msgNoHealthyUpstream)
			return
		}
		tryCtx, tryCancel := ctx, noCancel
		if a.retry != nil && a.retry.perTry > 0 {
			tryCtx, tryCancel = context.WithTimeout(ctx, a.retry.perTry)
		}
		outHost := host
		if a.autoHostRewrite && ep.hostname != "" {
			outHost = ep.hostname
		}
		resp, err := cl.transport.RoundTrip(body.request(r, tryCtx, cl.scheme, ep.addr, target, outHost))
		canRetry := attempt < retries
		switch {
		case err == nil && canRetry && a.retry.retriableStatus(resp.StatusCode):
			// Discard the response; a bounded drain lets the connection be reused.
			_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
			resp.Body.Close()
		case err == nil:
			rt.copyResponse(w, r, resp, vh, cr)
			tryCancel()
			return
		case r.Context().Err() != nil:
			tryCancel()
			return // the client went away: nobody to answer
		case ctx.Err() != nil:
			tryCancel()
			localReply(w, http.StatusGatewayTimeout, msgTimeout)
			return
		default:
			kind := classifyFailure(err, tryCtx)
			if !canRetry || !a.retry.retriableFailure(kind) {
				tryCancel()
				rt.log.Debug("upstream request failed", "cluster", cl.name, "endpoint", ep.addr, "error", err)
				failureReply(w, kind)
				return
			}
		}
		tryCancel()
		if !sleepCtx(ctx, a.retry.backoff(attempt+1)) {
			if r.Context().Err() == nil {
				localReply(w, http.StatusGatewayTimeout, msgTimeout)
			}
			return
		}
	}
}

// noCancel stands in for the cancel of a per-try context when there is none.
var noCancel context.CancelFunc = func() {}

func classifyFailure(err error, tryCtx context.Context) failureKind {
	var ce *connectError
	switch {
	case errors.Is(tryCtx.Err(), context.DeadlineExceeded):
		return failPerTryTimeout
	case errors.As(err, &ce):
		return failConnect
	}
	return failReset
}

func failureReply(w http.ResponseWriter, k failureKind) {
	switch k {
	case failPerTryTimeout:
		localReply(w, http.StatusGatewayTimeout, msgTimeout)
	case failConnect:
		localReply(w, http.StatusServiceUnavailable, msgConnectFailure)
	default:
		localReply(w, http.StatusServiceUnavailable, msgReset)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// copyResponse streams the upstream response downstream. Bodies of unknown
// length are flushed as they arrive so that streaming responses stream.
func (rt *router) copyResponse(w http.ResponseWriter, r *http.Request, resp *http.Response, vh *virtualHost, cr *compiledRoute) {
	defer resp.Body.Close()
	h := w.Header()
	for k, vv := range resp.Header {
		h[k] = vv
	}
	removeHopByHop(h)
	rt.responseHeaders(h, vh, cr)
	w.WriteHeader(resp.StatusCode)

	var flusher http.Flusher
	if resp.ContentLength == -1 {
		flusher, _ = w.(http.Flusher)
	}
	bufp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bufp)
	buf := *bufp
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return // the client went away
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if r.Context().Err() != nil {
				return
			}
			// The status is already sent: reset the downstream stream, as
			// Envoy does, so the client cannot mistake this for a full body.
			panic(http.ErrAbortHandler)
		}
	}
	for k, vv := range resp.Trailer {
		h[http.TrailerPrefix+k] = vv
	}
}

// requestBody is the body to send upstream: either buffered (replayable for
// retries) or the downstream body streamed once.
type requestBody struct {
	buf    []byte        // non-nil when buffered
	stream io.ReadCloser // when not buffered; nil for no body
	length int64
}

func (b *requestBody) replayable() bool { return b.stream == nil }

// newRequestBody buffers the downstream body when the route may retry and
// the body fits maxRetryBodyBytes; otherwise the body is streamed.
func newRequestBody(r *http.Request, p *retryPolicy) (requestBody, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return requestBody{}, nil
	}
	if p == nil || p.numRetries == 0 || r.ContentLength > maxRetryBodyBytes {
		return requestBody{stream: r.Body, length: r.ContentLength}, nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxRetryBodyBytes+1))
	if err != nil {
		return requestBody{}, err
	}
	if len(buf) > maxRetryBodyBytes {
		return requestBody{stream: io.NopCloser(io.MultiReader(bytes.NewReader(buf), r.Body)), length: r.ContentLength}, nil
	}
	return requestBody{buf: buf, length: int64(len(buf))}, nil
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
