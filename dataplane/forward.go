package dataplane

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
	"github.com/gluon-gateway/gluon/dataplane/internal/upstream"
)

const (
	msgNoHealthyUpstream = "no healthy upstream"
	msgTimeout           = "upstream request timeout"
	msgConnectFailure    = "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
	msgReset             = "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
)

// forward proxies the request to the route's cluster, retrying per the route's
// retry policy, and streams the response back. A body is buffered for
// retries and mirrors up to m's bufferLimit (0: Envoy's default 1 MiB).
// What happened goes into m for the access log: cluster, endpoint, flags.
func (rt *router) forward(w http.ResponseWriter, r *http.Request, m *routeMatch, target, path string) {
	vh, cr, bufferLimit := m.vh, m.route, m.bufferLimit
	a := cr.forward
	cl := rt.clusters[a.pickCluster()]
	if cl == nil {
		m.flags = "NC"
		localReply(w, a.notFoundStatus, "")
		return
	}
	m.cluster = cl.name
	upgrade := isWebSocketUpgrade(r)
	upgradeTo := r.Header["Upgrade"] // hop by hop: dropped below, but a tunnel asks for it
	if upgrade && !a.allowsWebSockets(rt.lc) {
		localReply(w, http.StatusForbidden, "upgrade failed") // as Envoy answers an upgrade it is not configured for
		return
	}
	rt.setForwardingHeaders(r)
	rt.requestHeaders(r.Header, vh, cr)
	target = a.rewritePath(&cr.path, target, path)
	host := r.Host
	if a.hostRewrite != "" {
		host = a.hostRewrite
	}
	if upgrade {
		r.Header["Upgrade"] = upgradeTo
		rt.tunnel(w, r, vh, cr, cl, target, host)
		return
	}

	// The route timeout and per-try timeouts are deadlines on the upstream
	// exchange rather than contexts: the HTTP/1.1 pool sets them on the
	// connection, which costs no goroutine or allocation per request.
	var deadline time.Time
	if timeout, fromHeader := a.grpcTimeout.timeout(r, a.timeout); timeout > 0 {
		deadline = time.Now().Add(timeout)
		if fromHeader {
			setGRPCDeadline(w, deadline)
		}
	}
	// Mirrors are drawn first: only a request actually mirrored has its body
	// buffered for them.
	mirrors := a.sampleMirrors()
	if !deadline.IsZero() && r.Body != nil && r.Body != http.NoBody {
		// A body still arriving when the route's time is up ends the request too.
		_ = http.NewResponseController(w).SetReadDeadline(deadline)
	}
	if bufferLimit <= 0 {
		bufferLimit = maxRetryBodyBytes
	}
	body, err := upstream.NewBody(r, a.retry != nil && a.retry.numRetries > 0 || mirrors != nil, int64(bufferLimit))
	if err != nil {
		bodyReadFailed(w, r, err, deadline)
		return
	}
	retries := 0
	if a.retry != nil && body.Replayable() {
		retries = a.retry.numRetries
	}
	st := cl.stats
	st.begin()
	defer st.end()
	release, err := cl.breakers.admit(r.Context())
	if err != nil {
		if errors.Is(err, errOverflow) {
			st.overflowed()
			m.flags = "UO"
			overloaded(w)
		}
		return // else the client went away while the request was pending
	}
	defer release()
	start := time.Now()
	// retryDone gives back the retry slot of the attempt under way.
	retryDone := func() {}
	defer func() { retryDone() }()
	takeRetry := func() bool {
		done, ok := cl.breakers.retry()
		if ok {
			retryDone = done
			st.retried()
		}
		return ok
	}

	var hash uint64
	var hashed bool
	var setCookie string
	if cl.lb.hashes() {
		hash, hashed, setCookie = requestHash(a.hashPolicies, r)
	}
	for attempt := 0; ; attempt++ {
		ep := cl.pick(hash, hashed)
		if ep == nil {
			m.flags = "UH"
			localReply(w, http.StatusServiceUnavailable, msgNoHealthyUpstream)
			return
		}
		m.upstreamHost = ep.addr
		tryDeadline := deadline
		if a.retry != nil && a.retry.perTry > 0 {
			if t := time.Now().Add(a.retry.perTry); deadline.IsZero() || t.Before(deadline) {
				tryDeadline = t
			}
		}
		outHost := host
		if a.autoHostRewrite && ep.hostname != "" {
			outHost = ep.hostname
		}
		if attempt == 0 && mirrors != nil {
			rt.mirror(r, mirrors, body, target, outHost, deadline)
		}
		var span trace.Span
		if m.trace != nil {
			span = m.trace.upstreamAttempt(r, cl.name, ep.addr, attempt)
		}
		cl.begin(ep)
		resp, err := cl.client.RoundTrip(r, body, ep.addr, target, outHost, tryDeadline)
		retryDone()
		retryDone = func() {}
		if err == nil {
			cl.observe(ep, resp.StatusCode)
			st.response(resp.StatusCode)
		}
		// The attempt's span (nil: untraced) ends with it: after the body
		// of an answer streamed to the client.
		canRetry := attempt < retries
		switch {
		case err == nil && canRetry && a.retry.retriableResponse(resp) && takeRetry():
			endAttempt(span, resp.StatusCode, nil)
			_, _ = io.CopyN(io.Discard, resp.Body, drainBytes)
			resp.Body.Close()
			cl.end(ep)
		case err == nil:
			if span != nil {
				defer endAttempt(span, resp.StatusCode, nil)
			}
			if setCookie != "" {
				resp.Header.Add("Set-Cookie", setCookie)
			}
			rt.copyResponse(w, r, resp, vh, cr)
			cl.end(ep)
			st.took(start)
			return
		case errors.As(err, new(*upstream.RequestBodyError)):
			endAttempt(span, 0, err)
			cl.end(ep)
			bodyReadFailed(w, r, err, deadline)
			return
		case r.Context().Err() != nil:
			endAttempt(span, 0, err)
			cl.end(ep)
			return // the client went away: nobody to answer
		case passed(deadline):
			endAttempt(span, 0, err)
			cl.end(ep)
			cl.observe(ep, http.StatusGatewayTimeout)
			st.timedOut()
			st.response(http.StatusGatewayTimeout)
			m.flags = "UT"
			localReply(w, http.StatusGatewayTimeout, msgTimeout)
			return
		default:
			endAttempt(span, 0, err)
			cl.end(ep)
			kind := classifyFailure(err, tryDeadline)
			cl.observe(ep, kind.status())
			st.response(kind.status())
			if kind == failPerTryTimeout {
				st.timedOut()
			}
			if !canRetry || !a.retry.retriableFailure(kind) || !takeRetry() {
				rt.log.Debug("upstream request failed", "cluster", cl.name, "endpoint", ep.addr, "error", err)
				m.flags = kind.flag()
				failureReply(w, kind)
				return
			}
		}
		if !sleepUntil(r.Context(), a.retry.backoff(attempt+1), deadline) {
			if r.Context().Err() == nil {
				localReply(w, http.StatusGatewayTimeout, msgTimeout)
			}
			return
		}
	}
}

// passed reports whether a deadline is set and has passed.
func passed(deadline time.Time) bool {
	return !deadline.IsZero() && !time.Now().Before(deadline)
}

func classifyFailure(err error, tryDeadline time.Time) failureKind {
	var ce *upstream.ConnectError
	switch {
	case passed(tryDeadline):
		return failPerTryTimeout
	case errors.As(err, &ce):
		return failConnect
	}
	return failReset
}

// flag is Envoy's response flag for a request that failed so.
func (k failureKind) flag() string {
	switch k {
	case failPerTryTimeout:
		return "UT"
	case failConnect:
		return "UF"
	}
	return "UC"
}

// status is what a failed attempt counts as for outlier detection.
func (k failureKind) status() int {
	if k == failPerTryTimeout {
		return http.StatusGatewayTimeout
	}
	return http.StatusServiceUnavailable
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

// sleepUntil waits d, or until the deadline (zero: none) or ctx ends first,
// in which case it reports false.
func sleepUntil(ctx context.Context, d time.Duration, deadline time.Time) bool {
	if !deadline.IsZero() {
		if left := time.Until(deadline); left <= d {
			sleepCtx(ctx, max(left, 0))
			return false
		}
	}
	return sleepCtx(ctx, d)
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
	bufp := h1.CopyBuffer()
	defer h1.PutCopyBuffer(bufp)
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
