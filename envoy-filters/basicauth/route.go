package basicauth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/basicauthwire"
	"github.com/gluon-gateway/gluon/transform"
)

// PluginName is the wire contract's, defined in basicauthwire.
const PluginName = basicauthwire.PluginName

// RouteConfig is the wire contract's.
type RouteConfig = basicauthwire.RouteConfig

// Headers is the header map the filter works on: Envoy's api.HeaderMap and
// the embedded data plane's adapter are.
type Headers = transform.Headers

// The answers to a request refused, as Envoy's basic_auth words them.
const (
	MissingCredentials = "User authentication failed. Missing username and password."
	WrongCredentials   = "User authentication failed. Invalid username/password combination."
)

// LocalReply is what the filter answers instead of forwarding.
type LocalReply struct {
	Status  int
	Body    string
	Headers map[string]string
}

// Route is a route's compiled config.
type Route struct {
	users   *Htpasswd
	forward string
}

// CompileRoute parses a route's config (JSON).
func CompileRoute(js []byte) (*Route, error) {
	var cfg RouteConfig
	if err := json.Unmarshal(js, &cfg); err != nil {
		return nil, fmt.Errorf("%s route config: %w", PluginName, err)
	}
	users, err := ParseHtpasswd(cfg.Users)
	if err != nil {
		return nil, fmt.Errorf("%s route config: users: %w", PluginName, err)
	}
	return &Route{users: users, forward: cfg.ForwardUsernameHeader}, nil
}

// OnRequest admits a request with a user's right password (and names the
// user upstream if asked), or refuses it with a Basic challenge.
func (r *Route) OnRequest(h Headers) *LocalReply {
	auth, _ := h.Get("authorization")
	user, pass, ok := parseBasic(auth)
	switch {
	case !ok:
		return challenge(h, MissingCredentials)
	case !r.users.Check(user, pass):
		return challenge(h, WrongCredentials)
	}
	if r.forward != "" {
		h.Set(r.forward, user)
	}
	return nil
}

// parseBasic reads "Basic base64(user:password)", the scheme in any case.
func parseBasic(auth string) (user, pass string, ok bool) {
	const prefix = "basic "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(auth[len(prefix):])
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}

// challenge is a 401 with a Basic challenge whose realm is the resource,
// as Envoy's.
func challenge(h Headers, msg string) *LocalReply {
	scheme, ok := h.Get(":scheme")
	if !ok {
		scheme = "http"
	}
	host, _ := h.Get(":authority")
	path, _ := h.Get(":path")
	path, _, _ = strings.Cut(path, "?")
	return &LocalReply{Status: http.StatusUnauthorized, Body: msg,
		Headers: map[string]string{"www-authenticate": `Basic realm="` + scheme + "://" + host + path + `"`}}
}
