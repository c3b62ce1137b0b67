package translator

import (
	"cmp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/basicauthwire"
	"github.com/gluon-gateway/gluon/envoy-filters/wire/clientheaderswire"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// Envoy's API key and basic authentication filters.
const (
	apiKeyAuthFilter = "envoy.filters.http.api_key_auth"
	basicAuthFilter  = "envoy.filters.http.basic_auth"
)

// gluonClientHeader carries an admitted client's id from api_key_auth to
// Gluon's client headers plugin when the user forwards it in no header of
// their own; the plugin removes it.
const gluonClientHeader = "x-gluon-api-key-client"

// apiKeyAuthFeature is Envoy's api_key_auth filter, at the authentication
// stage, off by default: the routes that take keys turn it on with their
// credentials and key sources. Routes that copy a key's metadata to
// headers also turn on Gluon's client headers plugin after it, as Envoy's
// filter forwards only the client's id.
var apiKeyAuthFeature = feature{
	name: "apikeyauth",
	filters: func(_ *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		if !anyRoute(l, func(r *ir.Route) bool { return r.APIKeyAuth != nil }) {
			return nil, nil
		}
		out := []httpFilter{{stage: StageAuthN, name: apiKeyAuthFilter, disabled: true, config: &apikeyv3.ApiKeyAuth{}}}
		if anyRoute(l, func(r *ir.Route) bool { return r.APIKeyAuth != nil && len(r.APIKeyAuth.ClientHeaders) > 0 }) {
			f, err := goPluginFilter(StageAuthN, clientheaderswire.PluginName, clientheaderswire.ListenerType, struct{}{})
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		return out, nil
	},
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) (err error) {
		a := r.APIKeyAuth
		if a == nil {
			return nil
		}
		cfg := &apikeyv3.ApiKeyAuthPerRoute{KeySources: []*apikeyv3.KeySource{{Header: a.Header, Query: a.Query, Cookie: a.Cookie}}}
		for _, c := range a.Credentials {
			cfg.Credentials = append(cfg.Credentials, &apikeyv3.Credential{Key: c.Key, Client: c.Client})
		}
		clientHeader := a.ClientIDHeader
		if len(a.ClientHeaders) > 0 {
			clientHeader = cmp.Or(clientHeader, gluonClientHeader)
			err = setGoPluginRouteConfig(out, clientheaderswire.PluginName, clientheaderswire.RouteType, clientheaderswire.RouteConfig{
				ClientHeader: clientHeader, RemoveClientHeader: a.ClientIDHeader == "", Headers: a.ClientHeaders})
			if err != nil {
				return err
			}
		}
		if clientHeader != "" || !a.KeepCredentials {
			cfg.Forwarding = &apikeyv3.Forwarding{Header: clientHeader, HideCredentials: !a.KeepCredentials}
		}
		out.TypedPerFilterConfig, err = withPackedConfig(out.TypedPerFilterConfig, apiKeyAuthFilter, cfg)
		return err
	},
}

// basicAuthFeature is Envoy's basic_auth filter, at the authentication
// stage, off by default: the routes that take users turn it on with them.
// Envoy's filter reads only {SHA} hashes, so routes with bcrypt users get
// Gluon's basic auth plugin instead, which reads both. The header
// carrying the user's name is the listener's in Envoy's filter: the first
// route that names one sets it.
var basicAuthFeature = feature{
	name: "basicauth",
	filters: func(_ *ir.Proxy, l *ir.Listener) ([]httpFilter, error) {
		var forward string
		var envoys, gluons bool
		for _, vh := range l.VirtualHosts {
			for _, r := range vh.Routes {
				switch b := r.BasicAuth; {
				case b == nil:
				case hasBcryptUsers(b.Users):
					gluons = true
				default:
					envoys = true
					forward = cmp.Or(forward, b.ForwardUsernameHeader)
				}
			}
		}
		var out []httpFilter
		if envoys {
			out = append(out, httpFilter{stage: StageAuthN, name: basicAuthFilter, disabled: true,
				config: &basicauthv3.BasicAuth{ForwardUsernameHeader: forward}})
		}
		if gluons {
			f, err := goPluginFilter(StageAuthN, basicauthwire.PluginName, basicauthwire.ListenerType, struct{}{})
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		return out, nil
	},
	route: func(out *routev3.Route, r *ir.Route, _ *ir.VirtualHost) (err error) {
		switch b := r.BasicAuth; {
		case b == nil:
			return nil
		case hasBcryptUsers(b.Users):
			return setGoPluginRouteConfig(out, basicauthwire.PluginName, basicauthwire.RouteType,
				basicauthwire.RouteConfig{Users: b.Users, ForwardUsernameHeader: b.ForwardUsernameHeader})
		}
		out.TypedPerFilterConfig, err = withPackedConfig(out.TypedPerFilterConfig, basicAuthFilter,
			&basicauthv3.BasicAuthPerRoute{Users: inline(r.BasicAuth.Users)})
		return err
	},
}

// hasBcryptUsers reports whether an htpasswd file has a bcrypt ($2…) hash.
func hasBcryptUsers(users string) bool {
	for line := range strings.SplitSeq(users, "\n") {
		if _, hash, _ := strings.Cut(strings.TrimSpace(line), ":"); strings.HasPrefix(hash, "$2") {
			return true
		}
	}
	return false
}
