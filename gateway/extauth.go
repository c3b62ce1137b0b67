package gateway

import (
	"errors"
	"fmt"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// Defaults of the external authorization service, as Envoy's.
const (
	defaultExtAuthzTimeout = 200 * time.Millisecond
	defaultStatusOnError   = 403
)

// extAuthz is the Settings' external authorization service in the IR, or
// why routes that ask it cannot have it.
func (t *translation) extAuthz() (*ir.ExtAuthz, error) {
	if t.res.Settings == nil || t.res.Settings.Spec.Extauth == nil {
		return nil, errors.New("no external authorization service: Settings have no spec.extauth")
	}
	s := t.res.Settings.Spec.Extauth
	ref := s.ExtauthzServerRef.Ref(t.res.Settings.Namespace)
	u, ok := t.upstreams[ref]
	switch {
	case !ok:
		return nil, fmt.Errorf("the external authorization Upstream %s is not found", ref)
	case s.HTTPService == nil && !u.Spec.UseHTTP2:
		return nil, fmt.Errorf("the external authorization Upstream %s must set useHttp2 for gRPC (or Settings set httpService)", ref)
	}
	out := &ir.ExtAuthz{Cluster: u.cluster, Timeout: ir.Duration(defaultExtAuthzTimeout), FailureModeAllow: s.FailureModeAllow,
		StatusOnError: defaultStatusOnError}
	if s.RequestTimeout != nil {
		out.Timeout = ir.Duration(s.RequestTimeout.Duration)
	}
	if s.StatusOnError != nil {
		out.StatusOnError = *s.StatusOnError
	}
	if b := s.RequestBody; b != nil {
		out.MaxRequestBytes, out.AllowPartialMessage = b.MaxRequestBytes, b.AllowPartialMessage
	}
	if h := s.HTTPService; h != nil {
		out.HTTP = &ir.ExtAuthzHTTP{URI: "http://" + ref.Name + "." + ref.Namespace, PathPrefix: h.PathPrefix}
		if r := h.Request; r != nil {
			out.HTTP.AllowedHeaders, out.HTTP.HeadersToAdd = r.AllowedHeaders, r.HeadersToAdd
		}
		if r := h.Response; r != nil {
			out.HTTP.AllowedUpstreamHeaders, out.HTTP.AllowedClientHeaders = r.AllowedUpstreamHeaders, r.AllowedClientHeaders
		}
	}
	return out, nil
}

// routeExtAuthz is whether route r asks the external authorization
// service: its own setting, else its virtual host's. A route that asks
// when there is no service is an error (it must not serve unchecked).
func (t *translation) routeExtAuthz(vs *api.VirtualService, r *api.Route) (*ir.RouteExtAuthz, error) {
	e := routeOrHost(vs, r, func(o *api.VirtualHostOptions) *api.ExtAuthExtension { return o.Extauth },
		func(o *api.RouteOptions) *api.ExtAuthExtension { return o.Extauth })
	if e == nil || e.Disable {
		return nil, nil
	}
	if t.extAuthzErr != nil {
		return nil, api.Errorf(api.InvalidAuth, "options.extauth", "%v", t.extAuthzErr)
	}
	return &ir.RouteExtAuthz{ContextExtensions: e.ContextExtensions}, nil
}

// proxyExtAuthz is the service for a proxy whose routes ask it.
func (t *translation) proxyExtAuthz(listeners []*ir.Listener) *ir.ExtAuthz {
	for _, l := range listeners {
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				if r.ExtAuthz != nil {
					return t.extAuthzSvc
				}
			}
		}
	}
	return nil
}
