package dataplane

import (
	"fmt"
	"net/http"

	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/envoy-filters/basicauth"
)

const (
	basicAuthName         = "envoy.filters.http.basic_auth"
	basicAuthType         = "type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.BasicAuth"
	basicAuthPerRouteType = "type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.BasicAuthPerRoute"
)

// basicAuthFilterDef is Envoy's basic authentication filter: htpasswd
// users, the listener's or a route's; Gluon's data plane checks bcrypt
// hashes as well as Envoy's {SHA}.
func basicAuthFilterDef() httpFilterDef {
	return httpFilterDef{name: basicAuthName, typeURL: basicAuthType, disableable: true, compile: compileBasicAuth,
		perRouteType: basicAuthPerRouteType, compilePerRoute: compileBasicAuthPerRoute}
}

type basicAuthFilter struct {
	name     string
	disabled bool
	users    *basicauth.Htpasswd // nil: none on the listener
	forward  string
}

func (f *basicAuthFilter) disableByDefault() { f.disabled = true }

func compileBasicAuth(name string, a *anypb.Any) (httpFilter, error) {
	c := &basicauthv3.BasicAuth{}
	if err := decodeAny(a, c); err != nil {
		return nil, err
	}
	if err := onlyFields(c, "users", "forward_username_header"); err != nil {
		return nil, err
	}
	f := &basicAuthFilter{name: name, forward: c.GetForwardUsernameHeader()}
	if c.GetUsers() != nil {
		var err error
		if f.users, err = basicauth.ParseHtpasswd(c.GetUsers().GetInlineString()); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
	}
	return f, nil
}

func compileBasicAuthPerRoute(a *anypb.Any) (any, error) {
	c := &basicauthv3.BasicAuthPerRoute{}
	if err := decodeAny(a, c); err != nil {
		return nil, err
	}
	h, err := basicauth.ParseHtpasswd(c.GetUsers().GetInlineString())
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return h, nil
}

func (f *basicAuthFilter) withRoutes(rt *routeTable) (middleware, error) {
	routes, err := nativeRouteConfigs[*basicauth.Htpasswd](rt, f.name, "BasicAuthPerRoute")
	if err != nil {
		return nil, err
	}
	return func(next handler, _ map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			users := f.users
			if f.disabled {
				users = nil
			}
			if m.route != nil && routes[m.route.idx] != nil {
				users = routes[m.route.idx]
			}
			if users == nil {
				next(w, r, m)
				return
			}
			user, pass, ok := r.BasicAuth()
			switch {
			case !ok:
				basicDenied(w, r, basicauth.MissingCredentials)
			case !users.Check(user, pass):
				basicDenied(w, r, basicauth.WrongCredentials)
			default:
				if f.forward != "" {
					r.Header.Set(f.forward, user)
				}
				next(w, r, m)
			}
		}
	}, nil
}

// basicDenied answers 401 with a Basic challenge naming the resource, as
// Envoy does.
func basicDenied(w http.ResponseWriter, r *http.Request, msg string) {
	w.Header()["Www-Authenticate"] = []string{`Basic realm="` + resourceURL(r) + `"`}
	localReply(w, http.StatusUnauthorized, msg)
}

// resourceURL is the URL a request is for, without its query: the realm
// of an authentication challenge.
func resourceURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + pathOf(requestTarget(r))
}
