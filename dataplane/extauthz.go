package dataplane

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	extauthzv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	extAuthzName         = "envoy.filters.http.ext_authz"
	extAuthzType         = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz"
	extAuthzPerRouteType = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute"
	// defaultExtAuthzTimeout is Envoy's timeout for a check.
	defaultExtAuthzTimeout = 200 * time.Millisecond
)

// extAuthzFilterDef is Envoy's external authorization filter: before a
// request goes on, the authorization service (gRPC or HTTP) decides.
func extAuthzFilterDef() httpFilterDef {
	return httpFilterDef{name: extAuthzName, typeURL: extAuthzType, disableable: true, compile: compileExtAuthz,
		perRouteType: extAuthzPerRouteType, compilePerRoute: compileExtAuthzPerRoute}
}

// extAuthzFilter is a compiled ExtAuthz.
type extAuthzFilter struct {
	name     string
	disabled bool // on only for routes that configure it
	cluster  string
	timeout  time.Duration
	http     *extAuthzHTTP // nil: gRPC
	// allowedHeaders are the client headers the service sees (HTTP mode,
	// besides those always sent); nil: all (gRPC) or none.
	allowedHeaders   []*stringMatcher
	failureModeAllow bool
	statusOnError    int
	maxBody          int // > 0: the body is sent, up to this
	allowPartial     bool
}

// extAuthzHTTP is the HTTP mode's service: where, and which of its
// answer's headers go on.
type extAuthzHTTP struct {
	host, pathPrefix string
	headersToAdd     http.Header
	upstreamHeaders  []*stringMatcher // nil: none
	clientHeaders    []*stringMatcher // nil: all
}

// extAuthzRouteConfig is a route's ExtAuthzPerRoute.
type extAuthzRouteConfig struct {
	disabled          bool
	contextExtensions map[string]string
}

func compileExtAuthz(name string, cfg *anypb.Any) (httpFilter, error) {
	c := &extauthzv3.ExtAuthz{}
	if err := decodeAny(cfg, c); err != nil {
		return nil, err
	}
	if err := onlyFields(c, "grpc_service", "http_service", "transport_api_version", "failure_mode_allow", "status_on_error",
		"with_request_body", "allowed_headers"); err != nil {
		return nil, err
	}
	f := &extAuthzFilter{name: name, failureModeAllow: c.GetFailureModeAllow(), statusOnError: http.StatusForbidden, timeout: defaultExtAuthzTimeout}
	if code := c.GetStatusOnError().GetCode(); code != 0 {
		f.statusOnError = int(code)
	}
	if b := c.GetWithRequestBody(); b != nil {
		if err := onlyFields(b, "max_request_bytes", "allow_partial_message"); err != nil {
			return nil, fmt.Errorf("with_request_body: %w", err)
		}
		f.maxBody, f.allowPartial = int(b.GetMaxRequestBytes()), b.GetAllowPartialMessage()
	}
	var err error
	if f.allowedHeaders, err = compileListMatcher(c.GetAllowedHeaders()); err != nil {
		return nil, fmt.Errorf("allowed_headers: %w", err)
	}
	switch {
	case c.GetGrpcService() != nil:
		g := c.GetGrpcService()
		if err := onlyFields(g, "envoy_grpc", "timeout"); err != nil {
			return nil, fmt.Errorf("grpc_service: %w", err)
		}
		f.cluster = g.GetEnvoyGrpc().GetClusterName()
		if g.GetTimeout() != nil {
			if f.timeout, err = duration(g.GetTimeout()); err != nil {
				return nil, fmt.Errorf("grpc_service.timeout: %w", err)
			}
		}
	case c.GetHttpService() != nil:
		if err := f.compileHTTPService(c.GetHttpService()); err != nil {
			return nil, fmt.Errorf("http_service: %w", err)
		}
	default:
		return nil, errors.New("grpc_service or http_service is required")
	}
	if f.cluster == "" {
		return nil, errors.New("the authorization service's cluster is required")
	}
	return f, nil
}

func (f *extAuthzFilter) compileHTTPService(h *extauthzv3.HttpService) error {
	if err := onlyFields(h, "server_uri", "path_prefix", "authorization_request", "authorization_response"); err != nil {
		return err
	}
	u, err := url.Parse(h.GetServerUri().GetUri())
	if err != nil || u.Host == "" {
		return fmt.Errorf("server_uri.uri %q is not a URL", h.GetServerUri().GetUri())
	}
	f.cluster = h.GetServerUri().GetCluster()
	if t := h.GetServerUri().GetTimeout(); t != nil {
		if f.timeout, err = duration(t); err != nil {
			return fmt.Errorf("server_uri.timeout: %w", err)
		}
	}
	f.http = &extAuthzHTTP{host: u.Host, pathPrefix: h.GetPathPrefix(), headersToAdd: http.Header{}}
	if r := h.GetAuthorizationRequest(); r != nil {
		if err := onlyFields(r, "headers_to_add"); err != nil {
			return fmt.Errorf("authorization_request: %w", err)
		}
		for _, hv := range r.GetHeadersToAdd() {
			f.http.headersToAdd.Set(hv.GetKey(), hv.GetValue())
		}
	}
	if r := h.GetAuthorizationResponse(); r != nil {
		if err := onlyFields(r, "allowed_upstream_headers", "allowed_client_headers"); err != nil {
			return fmt.Errorf("authorization_response: %w", err)
		}
		if f.http.upstreamHeaders, err = compileListMatcher(r.GetAllowedUpstreamHeaders()); err != nil {
			return fmt.Errorf("allowed_upstream_headers: %w", err)
		}
		if f.http.clientHeaders, err = compileListMatcher(r.GetAllowedClientHeaders()); err != nil {
			return fmt.Errorf("allowed_client_headers: %w", err)
		}
	}
	return nil
}

func compileListMatcher(l *matcherv3.ListStringMatcher) ([]*stringMatcher, error) {
	var out []*stringMatcher
	for i, p := range l.GetPatterns() {
		m, err := compileStringMatcher(p)
		if err != nil {
			return nil, fmt.Errorf("patterns[%d]: %w", i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func anyMatch(ms []*stringMatcher, s string) bool {
	for _, m := range ms {
		if m.match(s) {
			return true
		}
	}
	return false
}

func compileExtAuthzPerRoute(a *anypb.Any) (any, error) {
	c := &extauthzv3.ExtAuthzPerRoute{}
	if err := decodeAny(a, c); err != nil {
		return nil, err
	}
	if cs := c.GetCheckSettings(); cs != nil {
		if err := onlyFields(cs, "context_extensions"); err != nil {
			return nil, fmt.Errorf("check_settings: %w", err)
		}
	}
	return &extAuthzRouteConfig{disabled: c.GetDisabled(), contextExtensions: c.GetCheckSettings().GetContextExtensions()}, nil
}

func (f *extAuthzFilter) disableByDefault() { f.disabled = true }

func (f *extAuthzFilter) withRoutes(rt *routeTable) (middleware, error) {
	configs, err := nativeRouteConfigs[*extAuthzRouteConfig](rt, f.name, "ExtAuthzPerRoute")
	if err != nil {
		return nil, err
	}
	return func(next handler, clusters map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			var cfg *extAuthzRouteConfig
			if m.route != nil {
				cfg = configs[m.route.idx]
			}
			if cfg != nil && cfg.disabled || cfg == nil && f.disabled {
				next(w, r, m)
				return
			}
			var ext map[string]string
			if cfg != nil {
				ext = cfg.contextExtensions
			}
			f.authorize(w, r, m, next, clusters, ext)
		}
	}, nil
}

// extAuthzDecision is what the service said: allowed (with headers for
// the upstream request, and headers to remove from it) or denied (with
// the response to send).
type extAuthzDecision struct {
	allowed       bool
	upstream      http.Header
	removeHeaders []string
	status        int
	client        http.Header
	body          string
}

// authorize asks the service and acts on its answer; when it cannot
// answer, failure_mode_allow lets the request through, else it gets
// status_on_error.
func (f *extAuthzFilter) authorize(w http.ResponseWriter, r *http.Request, m *routeMatch, next handler,
	clusters map[string]*upstreamCluster, ext map[string]string) {
	body, tooLarge, err := f.requestBody(r)
	switch {
	case err != nil:
		localReply(w, http.StatusBadRequest, "")
		return
	case tooLarge:
		localReply(w, http.StatusRequestEntityTooLarge, "Payload Too Large")
		return
	}
	cl := clusters[f.cluster]
	var d *extAuthzDecision
	if cl == nil {
		err = fmt.Errorf("authorization cluster %q not found", f.cluster)
	} else if f.http != nil {
		d, err = f.checkHTTP(r, m, cl, body)
	} else {
		d, err = f.checkGRPC(r, m, cl, body, ext)
	}
	switch {
	case err != nil && f.failureModeAllow:
		r.Header.Set("X-Envoy-Auth-Failure-Mode-Allowed", "true")
		next(w, r, m)
	case err != nil:
		m.flags = "UAEX"
		localReply(w, f.statusOnError, "")
	case !d.allowed:
		m.flags = "UAEX"
		for k, vs := range d.client {
			w.Header()[k] = vs
		}
		localReply(w, d.status, d.body)
	default:
		for _, k := range d.removeHeaders {
			r.Header.Del(k)
		}
		for k, vs := range d.upstream {
			r.Header[k] = vs
		}
		next(w, r, m)
	}
}

// requestBody buffers the body to send the service, when configured, and
// puts it back for the upstream.
func (f *extAuthzFilter) requestBody(r *http.Request) (body []byte, tooLarge bool, err error) {
	if f.maxBody <= 0 || r.Body == nil || r.Body == http.NoBody {
		return nil, false, nil
	}
	body, err = io.ReadAll(io.LimitReader(r.Body, int64(f.maxBody)+1))
	if err != nil {
		return nil, false, err
	}
	rest := r.Body
	r.Body = readCloser{io.MultiReader(bytes.NewReader(body), rest), rest}
	if len(body) > f.maxBody {
		if !f.allowPartial {
			return nil, true, nil
		}
		body = body[:f.maxBody]
	}
	return body, false, nil
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (rc readCloser) Close() error { return rc.c.Close() }
