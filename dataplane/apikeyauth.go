package dataplane

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	apikeyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/api_key_auth/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	apiKeyAuthName     = "envoy.filters.http.api_key_auth"
	apiKeyAuthType     = "type.googleapis.com/envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuth"
	apiKeyAuthPerRoute = "type.googleapis.com/envoy.extensions.filters.http.api_key_auth.v3.ApiKeyAuthPerRoute"
)

// apiKeyAuthFilterDef is Envoy's API key authentication filter: a request
// must carry one of the credentials' keys; its client may be forwarded in
// a header, and the key hidden from the upstream.
func apiKeyAuthFilterDef() httpFilterDef {
	return httpFilterDef{name: apiKeyAuthName, typeURL: apiKeyAuthType, disableable: true, compile: compileAPIKeyAuth,
		perRouteType: apiKeyAuthPerRoute, compilePerRoute: compileAPIKeyAuthPerRoute}
}

// apiKeyConfig is the listener's or a route's configuration; a route's
// set fields replace the listener's.
type apiKeyConfig struct {
	keys    map[[32]byte]apiKeyCredential // by the key's SHA-256
	sources []*apikeyv3.KeySource
	forward *apikeyv3.Forwarding
	allowed []string // clients a route admits; nil: any
}

type apiKeyCredential struct {
	key    []byte
	client string
}

type apiKeyAuthFilter struct {
	name     string
	disabled bool
	cfg      *apiKeyConfig
}

func (f *apiKeyAuthFilter) disableByDefault() { f.disabled = true }

func compileAPIKeyAuth(name string, a *anypb.Any) (httpFilter, error) {
	c := &apikeyv3.ApiKeyAuth{}
	if err := decodeAny(a, c); err != nil {
		return nil, err
	}
	if err := onlyFields(c, "credentials", "key_sources", "forwarding"); err != nil {
		return nil, err
	}
	cfg, err := compileAPIKeyConfig(c.GetCredentials(), c.GetKeySources(), c.GetForwarding())
	if err != nil {
		return nil, err
	}
	return &apiKeyAuthFilter{name: name, cfg: cfg}, nil
}

func compileAPIKeyAuthPerRoute(a *anypb.Any) (any, error) {
	c := &apikeyv3.ApiKeyAuthPerRoute{}
	if err := decodeAny(a, c); err != nil {
		return nil, err
	}
	cfg, err := compileAPIKeyConfig(c.GetCredentials(), c.GetKeySources(), c.GetForwarding())
	if err != nil {
		return nil, err
	}
	cfg.allowed = c.GetAllowedClients()
	return cfg, nil
}

func compileAPIKeyConfig(creds []*apikeyv3.Credential, sources []*apikeyv3.KeySource, fwd *apikeyv3.Forwarding) (*apiKeyConfig, error) {
	cfg := &apiKeyConfig{sources: sources, forward: fwd}
	if creds != nil {
		cfg.keys = make(map[[32]byte]apiKeyCredential, len(creds))
		for i, c := range creds {
			h := sha256.Sum256([]byte(c.GetKey()))
			if _, dup := cfg.keys[h]; dup {
				return nil, fmt.Errorf("credentials[%d]: a key given twice", i)
			}
			cfg.keys[h] = apiKeyCredential{key: []byte(c.GetKey()), client: c.GetClient()}
		}
	}
	return cfg, nil
}

// merged is the route's configuration over the listener's.
func (f *apiKeyAuthFilter) merged(route *apiKeyConfig) *apiKeyConfig {
	if route == nil {
		return f.cfg
	}
	out := *f.cfg
	if route.keys != nil {
		out.keys = route.keys
	}
	if route.sources != nil {
		out.sources = route.sources
	}
	if route.forward != nil {
		out.forward = route.forward
	}
	out.allowed = route.allowed
	return &out
}

func (f *apiKeyAuthFilter) withRoutes(rt *routeTable) (middleware, error) {
	routes, err := nativeRouteConfigs[*apiKeyConfig](rt, f.name, "ApiKeyAuthPerRoute")
	if err != nil {
		return nil, err
	}
	configs := make([]*apiKeyConfig, len(routes))
	for i, r := range routes {
		if r != nil || !f.disabled {
			configs[i] = f.merged(r)
		}
	}
	return func(next handler, _ map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			var cfg *apiKeyConfig
			if m.route != nil {
				cfg = configs[m.route.idx]
			} else if !f.disabled {
				cfg = f.cfg
			}
			if cfg == nil {
				next(w, r, m)
				return
			}
			if status, msg := cfg.admit(r, m); status != 0 {
				localReply(w, status, msg)
				return
			}
			next(w, r, m)
		}
	}, nil
}

// admit checks the request's key, in constant time, and does what the
// configuration asks of an admitted request; it returns the refusal's
// status and message, or 0.
func (cfg *apiKeyConfig) admit(r *http.Request, m *routeMatch) (int, string) {
	key, src := cfg.key(r)
	if key == "" {
		return http.StatusUnauthorized, "Client authentication failed."
	}
	c, ok := cfg.keys[sha256.Sum256([]byte(key))]
	if !ok || subtle.ConstantTimeCompare(c.key, []byte(key)) != 1 {
		return http.StatusUnauthorized, "Client authentication failed."
	}
	if cfg.allowed != nil && !slices.Contains(cfg.allowed, c.client) {
		return http.StatusForbidden, "Client is forbidden."
	}
	if fwd := cfg.forward; fwd != nil {
		if fwd.GetHeader() != "" {
			r.Header.Set(fwd.GetHeader(), c.client)
		}
		if fwd.GetHideCredentials() {
			hideKey(r, m, src)
		}
	}
	return 0, ""
}

// key finds the request's key in the first source that has one.
func (cfg *apiKeyConfig) key(r *http.Request) (string, *apikeyv3.KeySource) {
	for _, s := range cfg.sources {
		if h := s.GetHeader(); h != "" {
			if v := r.Header.Get(h); v != "" {
				return v, &apikeyv3.KeySource{Header: h}
			}
		}
		if q := s.GetQuery(); q != "" && r.URL.RawQuery != "" {
			if v := r.URL.Query().Get(q); v != "" {
				return v, &apikeyv3.KeySource{Query: q}
			}
		}
		if ck := s.GetCookie(); ck != "" {
			if c, err := r.Cookie(ck); err == nil && c.Value != "" {
				return c.Value, &apikeyv3.KeySource{Cookie: ck}
			}
		}
	}
	return "", nil
}

// hideKey removes the key from where it was: its header, its query
// parameter from the target forwarded, or its cookie (the client's other
// cookies go on).
func hideKey(r *http.Request, m *routeMatch, src *apikeyv3.KeySource) {
	switch {
	case src.GetHeader() != "":
		r.Header.Del(src.GetHeader())
	case src.GetCookie() != "":
		var rest []string
		for _, c := range r.Cookies() {
			if c.Name != src.GetCookie() {
				rest = append(rest, c.Name+"="+c.Value)
			}
		}
		if r.Header.Del("Cookie"); len(rest) > 0 {
			r.Header.Set("Cookie", strings.Join(rest, "; "))
		}
	case src.GetQuery() != "":
		path, query, _ := strings.Cut(m.target, "?")
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		q.Del(src.GetQuery())
		m.target = path
		if enc := q.Encode(); enc != "" {
			m.target += "?" + enc
		}
	}
}
