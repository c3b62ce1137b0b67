// Package standin is a local Azure: an AAD token endpoint and the slice of
// Azure Resource Manager that Function App discovery uses (list functions,
// list host and function keys), on one loopback TLS server, plus a plain
// HTTP "function host" that serves the apps' HTTP-triggered functions and
// checks their keys and App Service authentication as Azure does. No cloud
// endpoint is reachable from tests, e2e runs or `gluon demo`; this keeps the
// real azidentity and ARM clients honest against a server that checks what
// it receives.
package standin

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Auth levels of an HTTP trigger.
const (
	AuthAnonymous = "anonymous"
	AuthFunction  = "function"
	AuthAdmin     = "admin"
)

// ARMAudience is the audience ARM tokens must carry.
const ARMAudience = "https://management.core.windows.net/"

// Function is one function of an app.
type Function struct {
	Name string
	// Route is the HTTP trigger's route template ("pets/{id?}"); the
	// function's name when empty. It is served under /api/.
	Route string
	// AuthLevel is anonymous, function (the default) or admin.
	AuthLevel string
	// Methods the trigger accepts; all when empty.
	Methods []string
	// Trigger is the trigger binding's type (default httpTrigger); other
	// triggers (timerTrigger...) are listed by ARM but not served.
	Trigger  string
	Disabled bool
	// Handler serves accepted requests; route parameters are in
	// r.PathValue(name).
	Handler http.HandlerFunc
}

// App is a Function App.
type App struct {
	Name      string
	Functions []Function
	// RequireAAD turns on App Service authentication: every request needs
	// a bearer token issued for api://<app>, before any key is checked.
	RequireAAD bool
}

// Keys are an app's keys.
type Keys struct {
	Host, Master string
	// Function is each function's default key.
	Function map[string]string
}

// Options configure a stand-in.
type Options struct {
	// Tenant, Subscription and ResourceGroup are the only ones that exist
	// (defaults: a fixed tenant GUID, a fixed subscription GUID, "gluon-rg").
	Tenant, Subscription, ResourceGroup string
	// PageSize bounds function list pages (default 2, so clients paginate).
	PageSize int
	// TokenLifetime is how long issued tokens last (default 1 h); short
	// lifetimes test refresh.
	TokenLifetime time.Duration
}

// Server is a stand-in Azure. Create it with New; Close it.
type Server struct {
	tenant, subscription, resourceGroup string
	pageSize                            int
	tokenLifetime                       time.Duration

	tls     *httptest.Server // AAD + ARM
	host    *http.Server     // function host
	hostURL string

	mu         sync.Mutex
	apps       map[string]*app // by lower-cased name
	clients    map[string]string
	federated  map[string]string // client id → federated assertion
	identities map[string]bool   // managed identities by client id; "" = system-assigned
	msiHeader  string
	tokens     map[string]token
	forbidARM  bool
	forbidKeys bool
	obs        observations
}

type app struct {
	App
	keys Keys
}

// New starts the stand-in: the TLS server for AAD and ARM, and the
// function host, both on 127.0.0.1. It has no apps and no clients, so every
// token request is refused until AddClient.
func New(o Options) (*Server, error) {
	s := &Server{
		tenant: orString(o.Tenant, "72f988bf-86f1-41af-91ab-2d7cd011db47"), subscription: orString(o.Subscription, "00000000-1111-2222-3333-444444444444"),
		resourceGroup: orString(o.ResourceGroup, "gluon-rg"), pageSize: o.PageSize, tokenLifetime: o.TokenLifetime,
		apps: map[string]*app{}, clients: map[string]string{}, tokens: map[string]token{},
		federated: map[string]string{}, identities: map[string]bool{}, msiHeader: newSecret(),
	}
	if s.pageSize <= 0 {
		s.pageSize = 2
	}
	if s.tokenLifetime <= 0 {
		s.tokenLifetime = time.Hour
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("standin: %w", err)
	}
	s.host = &http.Server{Handler: http.HandlerFunc(s.serveHost), ReadHeaderTimeout: 10 * time.Second}
	s.hostURL = "http://" + ln.Addr().String()
	go s.host.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	s.tls = httptest.NewTLSServer(http.HandlerFunc(s.serveTLS))
	return s, nil
}

func orString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// URL is the TLS server's https://127.0.0.1:port: the authority host (with
// a trailing "/") and the ARM endpoint.
func (s *Server) URL() string { return s.tls.URL }

// Client is an *http.Client that trusts the TLS server, for the SDK's Transport.
func (s *Server) Client() *http.Client { return s.tls.Client() }

// CertPool holds the TLS server's certificate.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.tls.Certificate())
	return pool
}

// HostURL is the function host's http://127.0.0.1:port.
func (s *Server) HostURL() string { return s.hostURL }

// Tenant, Subscription and ResourceGroup are the ones that exist.
func (s *Server) Tenant() string        { return s.tenant }
func (s *Server) Subscription() string  { return s.subscription }
func (s *Server) ResourceGroup() string { return s.resourceGroup }

// Close stops both servers.
func (s *Server) Close() {
	s.tls.Close()
	s.host.Close() //nolint:errcheck // nothing to do about it
}

// AddApp adds (or replaces) an app, with fresh keys.
func (s *Server) AddApp(a App) error {
	if a.Name == "" || strings.ContainsAny(a.Name, "/.") {
		return fmt.Errorf("standin: bad app name %q", a.Name)
	}
	k := Keys{Host: newSecret(), Master: newSecret(), Function: map[string]string{}}
	seen := map[string]bool{}
	for i, f := range a.Functions {
		if f.Name == "" || strings.Contains(f.Name, "/") || seen[strings.ToLower(f.Name)] {
			return fmt.Errorf("standin: app %s: bad or repeated function name %q", a.Name, f.Name)
		}
		seen[strings.ToLower(f.Name)] = true
		switch f.AuthLevel {
		case "":
			a.Functions[i].AuthLevel = AuthFunction
		case AuthAnonymous, AuthFunction, AuthAdmin:
		default:
			return fmt.Errorf("standin: function %s: bad auth level %q", f.Name, f.AuthLevel)
		}
		if f.Route == "" {
			a.Functions[i].Route = f.Name
		}
		if f.Trigger == "" {
			a.Functions[i].Trigger = "httpTrigger"
		}
		if f.Handler == nil && a.Functions[i].Trigger == "httpTrigger" {
			return errors.New("standin: function " + f.Name + " has no handler")
		}
		k.Function[f.Name] = newSecret()
	}
	a.Functions = append([]Function(nil), a.Functions...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[strings.ToLower(a.Name)] = &app{App: a, keys: k}
	return nil
}

// AddClient registers a service principal that may get tokens with its secret.
func (s *Server) AddClient(clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[clientID] = secret
}

// AddFederatedClient registers a workload identity: an app registration
// whose federated credential trusts assertion, the content of the token file
// a workload presents as client_assertion (a Kubernetes service account
// token, say). The stand-in compares it as an opaque string.
func (s *Server) AddFederatedClient(clientID, assertion string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.federated[clientID] = assertion
}

// AddManagedIdentity lets the managed identity endpoint issue tokens for an
// identity: a user-assigned one by its client id, or the system-assigned
// one for "".
func (s *Server) AddManagedIdentity(clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.identities[clientID] = true
}

// MSIEndpoint is the managed identity endpoint (App Service protocol), plain
// HTTP on the function host: the value of IDENTITY_ENDPOINT.
func (s *Server) MSIEndpoint() string { return s.hostURL + msiPath }

// MSIHeader is the secret the endpoint expects in X-IDENTITY-HEADER: the
// value of IDENTITY_HEADER.
func (s *Server) MSIHeader() string { return s.msiHeader }

// Keys returns a copy of an app's current keys.
func (s *Server) Keys(appName string) (Keys, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[strings.ToLower(appName)]
	if !ok {
		return Keys{}, false
	}
	k := a.keys
	k.Function = make(map[string]string, len(a.keys.Function))
	for fn, key := range a.keys.Function {
		k.Function[fn] = key
	}
	return k, true
}

// RevokeKey replaces a function's default key, as regenerating it in the
// portal does: the old key stops working at once, and ARM lists the new one.
func (s *Server) RevokeKey(appName, fn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.apps[strings.ToLower(appName)]; ok {
		if _, ok := a.keys.Function[fn]; ok {
			a.keys.Function[fn] = newSecret()
		}
	}
}

// ForbidARM makes every ARM call fail with 403 AuthorizationFailed: a
// principal without a role on the app.
func (s *Server) ForbidARM(forbid bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbidARM = forbid
}

// ForbidKeys makes only the listkeys actions fail with 403
// AuthorizationFailed: a Reader, who may list functions but not keys.
func (s *Server) ForbidKeys(forbid bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbidKeys = forbid
}

// newSecret returns a key shaped like Azure's (base64, 40 random bytes).
func newSecret() string {
	var b [40]byte
	rand.Read(b[:]) //nolint:errcheck // never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CertPEM is the TLS server's certificate in PEM, for clients that trust
// it through a file (SSL_CERT_FILE), as they would a private CA.
func (s *Server) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.tls.Certificate().Raw})
}
