package azure

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gluon-gateway/gluon/transform"
)

// Headers is the header map the filter works on: Envoy's api.HeaderMap and
// the embedded data plane's adapter are.
type Headers = transform.Headers

// LocalReply is what the filter answers instead of forwarding.
type LocalReply struct {
	Status int
	Body   string
}

// Stream is one request's pass through the filter.
type Stream struct{ route *Route }

// NewStream starts a request on a route (nil: the route calls no function).
func (r *Route) NewStream() *Stream { return &Stream{route: r} }

// Function names the function the stream calls: its function app's
// upstream ("ns/name") and the function.
func (s *Stream) Function() (upstream, function string) {
	if s.route == nil {
		return "", ""
	}
	return s.route.cfg.Upstream, s.route.cfg.FunctionName
}

// Active says whether the stream calls a function. The filter needs
// neither body: it only rewrites request headers.
func (s *Stream) Active() bool { return s.route != nil }

// keyHeader carries a function key; a client's own is always dropped so
// that callers cannot pick the key (or, on an anonymous route, smuggle one).
const keyHeader = "x-functions-key"

// OnRequest points the request at the function and authenticates it.
func (s *Stream) OnRequest(h Headers) *LocalReply {
	r := s.route
	if r.err != nil {
		// The gateway lacks what its upstream needs: a bad gateway.
		return &LocalReply{Status: http.StatusBadGateway, Body: r.err.Error() + "\n"}
	}
	path := r.cfg.Path
	if p, ok := h.Get(":path"); ok {
		if _, query, found := strings.Cut(p, "?"); found {
			path += "?" + query
		}
	}
	h.Set(":path", path)
	h.Set(":authority", r.cfg.Host)
	h.Del(keyHeader)
	if r.key != "" {
		h.Set(keyHeader, r.key)
	}
	if r.tokens != nil {
		ctx, cancel := context.WithTimeout(context.Background(), tokenTimeout)
		defer cancel()
		tok, err := r.tokens.token(ctx)
		if err != nil {
			return &LocalReply{Status: http.StatusBadGateway, Body: fmt.Sprintf("function %s: %v\n", r.cfg.FunctionName, err)}
		}
		h.Set("authorization", "Bearer "+tok)
	}
	return nil
}

// OnResponse passes the app's answer through as it is, and returns a
// warning to log when the app refused the gateway's credentials: the client
// sees the app's status, the operator learns which function's secret is
// wrong.
func (s *Stream) OnResponse(h Headers) (warning string) {
	st, _ := h.Get(":status")
	switch status, _ := strconv.Atoi(st); status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("%s: function %s on %s answered %d: its key or AAD token was refused", PluginName, s.route.cfg.FunctionName, s.route.cfg.Host, status)
	}
	return ""
}
