package dataplane

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gluon-gateway/gluon/dataplane/internal/upstream"
)

// maxAuthzResponseBody bounds what the HTTP service's denial may carry.
const maxAuthzResponseBody = 64 << 10

// checkGRPC asks the service with Envoy's Authorization.Check.
func (f *extAuthzFilter) checkGRPC(r *http.Request, m *routeMatch, cl *upstreamCluster, body []byte, ext map[string]string) (*extAuthzDecision, error) {
	conn, err := cl.grpcConn()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.timeout)
	defer cancel()
	resp, err := authv3.NewAuthorizationClient(conn).Check(ctx, f.checkRequest(r, m, body, ext))
	if err != nil {
		return nil, fmt.Errorf("authorization service: %w", err)
	}
	if codes.Code(resp.GetStatus().GetCode()) == codes.OK {
		ok := resp.GetOkResponse()
		d := &extAuthzDecision{allowed: true, upstream: headerOptions(ok.GetHeaders()), removeHeaders: ok.GetHeadersToRemove()}
		return d, nil
	}
	denied := resp.GetDeniedResponse()
	d := &extAuthzDecision{status: int(denied.GetStatus().GetCode()), client: headerOptions(denied.GetHeaders()), body: denied.GetBody()}
	if d.status == 0 {
		d.status = http.StatusForbidden // Envoy's default for a denial
	}
	return d, nil
}

// checkRequest describes the request as Envoy's ext_authz does: its
// peers, and its method, path, host, headers (and body when asked).
func (f *extAuthzFilter) checkRequest(r *http.Request, m *routeMatch, body []byte, ext map[string]string) *authv3.CheckRequest {
	headers := make(map[string]string, len(r.Header)+3)
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	headers[":authority"], headers[":method"], headers[":path"] = r.Host, r.Method, m.target
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	req := &authv3.AttributeContext_HttpRequest{Id: r.Header.Get("X-Request-Id"), Method: r.Method, Headers: headers, Path: m.target,
		Host: r.Host, Scheme: scheme, Protocol: r.Proto, Size: r.ContentLength}
	if body != nil {
		req.Body = string(body)
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source:            &authv3.AttributeContext_Peer{Address: peerAddress(r.RemoteAddr)},
		Destination:       &authv3.AttributeContext_Peer{Address: peerAddress(localAddr(r))},
		Request:           &authv3.AttributeContext_Request{Time: timestamppb.Now(), Http: req},
		ContextExtensions: ext,
	}}
}

func localAddr(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a.String()
	}
	return ""
}

func peerAddress(hostPort string) *corev3.Address {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return nil
	}
	var p uint32
	_, _ = fmt.Sscan(port, &p)
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: host, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: p}}}}
}

// headerOptions are a check response's headers, set (not appended).
func headerOptions(hs []*corev3.HeaderValueOption) http.Header {
	out := http.Header{}
	for _, h := range hs {
		out.Set(h.GetHeader().GetKey(), h.GetHeader().GetValue())
	}
	return out
}

// checkHTTP asks the HTTP service: the request's method, path (after the
// prefix) and allowed headers; a 200 allows it.
func (f *extAuthzFilter) checkHTTP(r *http.Request, m *routeMatch, cl *upstreamCluster, body []byte) (*extAuthzDecision, error) {
	ctx, cancel := context.WithTimeout(r.Context(), f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, "http://"+f.http.host, nil)
	if err != nil {
		return nil, err
	}
	req.Header = f.checkHeaders(r)
	var b upstream.Body
	if body != nil {
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		if b, err = upstream.NewBody(req, true, int64(len(body))); err != nil {
			return nil, err
		}
	}
	deadline := time.Now().Add(f.timeout)
	resp, err := cl.sideRequest(req, b, f.http.pathPrefix+m.target, r.Host, deadline)
	if err != nil {
		return nil, fmt.Errorf("authorization cluster %q: %w", f.cluster, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAuthzResponseBody))
		return &extAuthzDecision{allowed: true, upstream: pickHeaders(resp.Header, f.http.upstreamHeaders, false)}, nil
	}
	denial, err := io.ReadAll(io.LimitReader(resp.Body, maxAuthzResponseBody))
	if err != nil {
		return nil, fmt.Errorf("authorization service: %w", err)
	}
	return &extAuthzDecision{status: resp.StatusCode, client: pickHeaders(resp.Header, f.http.clientHeaders, true), body: string(denial)}, nil
}

// alwaysSentHeaders go to the HTTP service whatever allowed_headers say,
// as in Envoy.
var alwaysSentHeaders = []string{"Authorization", "Content-Length"}

// checkHeaders are the headers the HTTP service is sent.
func (f *extAuthzFilter) checkHeaders(r *http.Request) http.Header {
	out := http.Header{}
	for k, vs := range r.Header {
		if anyMatch(f.allowedHeaders, k) || anyMatch(f.allowedHeaders, strings.ToLower(k)) {
			out[k] = vs
		}
	}
	for _, k := range alwaysSentHeaders {
		if v := r.Header[k]; v != nil {
			out[k] = v
		}
	}
	for k, vs := range f.http.headersToAdd {
		out[k] = vs
	}
	return out
}

// pickHeaders are the service's headers that match; none configured
// means none (upstream) or all (client), as in Envoy. Framing and
// hop-by-hop headers never pass.
func pickHeaders(h http.Header, allowed []*stringMatcher, allByDefault bool) http.Header {
	out := http.Header{}
	for k, vs := range h {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Connection", "Date", "Server", "Host":
			continue
		}
		if (allowed == nil && allByDefault) || anyMatch(allowed, k) || anyMatch(allowed, strings.ToLower(k)) {
			out[k] = vs
		}
	}
	return out
}
