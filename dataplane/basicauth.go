package dataplane

import (
	"crypto/sha1" //nolint:gosec // htpasswd's {SHA} scheme is SHA-1, as Envoy's basic_auth reads it
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	basicauthv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/basic_auth/v3"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	basicAuthName         = "envoy.filters.http.basic_auth"
	basicAuthType         = "type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.BasicAuth"
	basicAuthPerRouteType = "type.googleapis.com/envoy.extensions.filters.http.basic_auth.v3.BasicAuthPerRoute"
	// maxCheckedPasswords bounds the cache of passwords checked against
	// bcrypt hashes: bcrypt costs tens of milliseconds by design, too
	// much to pay on every request of a client.
	maxCheckedPasswords = 1024
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
	users    *htpasswd // nil: none on the listener
	forward  string
}

func (f *basicAuthFilter) disableByDefault() { f.disabled = true }

// htpasswd are users' password hashes, and the passwords found right.
type htpasswd struct {
	hashes map[string]string
	// decoy is a bcrypt hash of the file, checked for unknown users so
	// that they take as long to refuse as a wrong password ("" if none).
	decoy string
	mu    sync.Mutex
	good  map[[32]byte]bool // SHA-256 of user:password checked against a bcrypt hash
}

func parseHtpasswd(s string) (*htpasswd, error) {
	h := &htpasswd{hashes: map[string]string{}, good: map[[32]byte]bool{}}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("users line %d is not user:hash", i+1)
		}
		if !strings.HasPrefix(hash, "{SHA}") && !strings.HasPrefix(hash, "$2") {
			return nil, fmt.Errorf("users line %d: only bcrypt and {SHA} hashes are supported", i+1)
		}
		h.hashes[user] = hash
		if h.decoy == "" && strings.HasPrefix(hash, "$2") {
			h.decoy = hash
		}
	}
	if len(h.hashes) == 0 {
		return nil, errors.New("no users")
	}
	return h, nil
}

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
		if f.users, err = parseHtpasswd(c.GetUsers().GetInlineString()); err != nil {
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
	h, err := parseHtpasswd(c.GetUsers().GetInlineString())
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return h, nil
}

func (f *basicAuthFilter) withRoutes(rt *routeTable) (middleware, error) {
	routes, err := nativeRouteConfigs[*htpasswd](rt, f.name, "BasicAuthPerRoute")
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
				basicDenied(w, r, "User authentication failed. Missing username and password.")
			case !users.check(user, pass):
				basicDenied(w, r, "User authentication failed. Invalid username/password combination.")
			default:
				if f.forward != "" {
					r.Header.Set(f.forward, user)
				}
				next(w, r, m)
			}
		}
	}, nil
}

// check verifies a user's password against its hash, in constant time.
func (h *htpasswd) check(user, pass string) bool {
	hash, ok := h.hashes[user]
	if !ok {
		if h.decoy != "" {
			_ = bcrypt.CompareHashAndPassword([]byte(h.decoy), []byte(pass)) // time spent, answer ignored
		}
		return false
	}
	if b64, ok := strings.CutPrefix(hash, "{SHA}"); ok {
		sum := sha1.Sum([]byte(pass)) //nolint:gosec // the {SHA} scheme
		return subtle.ConstantTimeCompare([]byte(base64.StdEncoding.EncodeToString(sum[:])), []byte(b64)) == 1
	}
	key := sha256.Sum256([]byte(user + ":" + pass))
	h.mu.Lock()
	good := h.good[key]
	h.mu.Unlock()
	if good {
		return true
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass)) != nil {
		return false
	}
	h.mu.Lock()
	if len(h.good) >= maxCheckedPasswords {
		clear(h.good)
	}
	h.good[key] = true
	h.mu.Unlock()
	return true
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
