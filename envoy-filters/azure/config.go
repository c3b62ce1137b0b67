// Package azure is the logic of Gluon's Azure Functions HTTP filter (golang
// plugin "gluon.azure_functions"): it points a routed request at a function's
// HTTP trigger and authenticates it with a function key (x-functions-key)
// and/or an Azure AD token. Like the other Gluon filters it works on plain
// header maps, so Envoy (through the plugin adapter) and the embedded data
// plane run the same code.
package azure

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// PluginName is the golang filter plugin this logic runs as.
const PluginName = "gluon.azure_functions"

// Keys are a function app's keys. They arrive in the listener config only
// (never in route configs), and are redacted wherever config is shown.
type Keys struct {
	FunctionKeys map[string]string `json:"functionKeys,omitempty"`
	HostKey      string            `json:"hostKey,omitempty"`
	MasterKey    string            `json:"masterKey,omitempty"`
}

// AAD is the identity that gets tokens for a function app protected by App
// Service authentication.
type AAD struct {
	// Kind is how the identity authenticates: "clientSecret" (the default
	// when empty: tenantId, clientId, clientSecret), "managedIdentity" (the
	// host's, from IDENTITY_ENDPOINT/IDENTITY_HEADER or IMDS; clientId picks
	// a user-assigned one), "workloadIdentity" (tenantId, clientId and
	// tokenFilePath, the federated token file) or "default" (azidentity's
	// DefaultAzureCredential, configured by the AZURE_* and managed identity
	// environment variables of the Envoy process; tenantId optional).
	Kind         string `json:"kind,omitempty"`
	TenantID     string `json:"tenantId"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	// TokenFilePath is a workload identity's federated token file.
	TokenFilePath string `json:"tokenFilePath,omitempty"`
	// AuthorityHost overrides https://login.microsoftonline.com/ (sovereign
	// clouds, tests).
	AuthorityHost string `json:"authorityHost,omitempty"`
	// Scope is what the token is for, e.g. "api://<app-client-id>/.default".
	Scope string `json:"scope"`
}

// ListenerConfig holds the secrets of every function app the listener's
// routes call, by upstream ("namespace/name").
type ListenerConfig struct {
	Keys map[string]Keys `json:"keys,omitempty"`
	AAD  map[string]AAD  `json:"aad,omitempty"`
}

// Credential kinds of AAD.Kind.
const (
	KindClientSecret     = "clientSecret"
	KindManagedIdentity  = "managedIdentity"
	KindWorkloadIdentity = "workloadIdentity"
	KindDefault          = "default"
)

// Auth levels of an HTTP trigger, as in its function.json.
const (
	AuthAnonymous = "anonymous"
	AuthFunction  = "function"
	AuthAdmin     = "admin"
)

// RouteConfig says which function a route calls.
type RouteConfig struct {
	// Upstream names the function app ("namespace/name") whose secrets
	// authenticate the call.
	Upstream     string `json:"upstream"`
	FunctionName string `json:"functionName"`
	// Path is the trigger's path, "/api/<route>", parameters resolved.
	Path string `json:"path"`
	// Host is "<app>.azurewebsites.net" or the app's custom host.
	Host string `json:"host"`
	// AuthLevel is the trigger's: anonymous, function (the default, as in
	// Azure) or admin.
	AuthLevel string `json:"authLevel,omitempty"`
	// AAD adds a bearer token from the upstream's app registration.
	AAD bool `json:"aad,omitempty"`
}

// Option tunes a Filter for its process rather than its config.
type Option func(*Filter)

// WithTransport sends AAD token requests through t instead of the default
// HTTP client (tests use it to trust a test CA).
func WithTransport(t policy.Transporter) Option {
	return func(f *Filter) { f.transport = t }
}

// Filter is the listener-level state.
type Filter struct {
	cfg       ListenerConfig
	transport policy.Transporter

	mu sync.Mutex
	// tokens are shared by the routes of the listener that use the same
	// app registration and scope: one token fetch per lifetime, not one
	// per route.
	tokens map[AAD]*tokenSource
}

// NewFilter parses the listener config (JSON; empty means none).
func NewFilter(configJSON []byte, opts ...Option) (*Filter, error) {
	f := &Filter{tokens: map[AAD]*tokenSource{}}
	if len(configJSON) > 0 {
		if err := json.Unmarshal(configJSON, &f.cfg); err != nil {
			return nil, fmt.Errorf("%s: listener config: %w", PluginName, err)
		}
	}
	for up, a := range f.cfg.AAD {
		switch a.Kind {
		case "", KindClientSecret, KindManagedIdentity, KindWorkloadIdentity, KindDefault:
		default:
			// A misspelt kind is a config error, not a missing secret.
			return nil, fmt.Errorf("%s: listener config: AAD identity of upstream %s: unknown kind %q (want %s, %s, %s or %s)",
				PluginName, up, a.Kind, KindClientSecret, KindManagedIdentity, KindWorkloadIdentity, KindDefault)
		}
	}
	for _, o := range opts {
		o(f)
	}
	return f, nil
}

// Route is a route's checked config with its secrets resolved.
type Route struct {
	cfg RouteConfig
	key string // the x-functions-key value; "" for none
	// tokens gets the bearer token of an AAD route.
	tokens *tokenSource
	// err is why the route cannot authenticate its calls: a config that
	// names secrets the listener lacks fails each request with 502 rather
	// than the whole listener, and never reaches the app unauthenticated.
	err error
}

// CompileRoute checks a route config and resolves its secrets.
func (f *Filter) CompileRoute(configJSON []byte) (*Route, error) {
	var c RouteConfig
	if err := json.Unmarshal(configJSON, &c); err != nil {
		return nil, fmt.Errorf("%s: route config: %w", PluginName, err)
	}
	if c.AuthLevel == "" {
		c.AuthLevel = AuthFunction
	}
	switch {
	case c.FunctionName == "" || c.Host == "" || c.Upstream == "":
		return nil, fmt.Errorf("%s: route config: upstream, functionName and host are required", PluginName)
	case !strings.HasPrefix(c.Path, "/") || strings.ContainsAny(c.Path, "?#"):
		return nil, fmt.Errorf("%s: route config: path %q is not an absolute path without query", PluginName, c.Path)
	case c.AuthLevel != AuthAnonymous && c.AuthLevel != AuthFunction && c.AuthLevel != AuthAdmin:
		return nil, fmt.Errorf("%s: route config: authLevel %q is not anonymous, function or admin", PluginName, c.AuthLevel)
	}
	r := &Route{cfg: c}
	r.key, r.err = f.key(c)
	if c.AAD && r.err == nil {
		r.tokens, r.err = f.tokenSource(c.Upstream)
	}
	return r, nil
}

// key picks the key a trigger of the route's auth level accepts: for
// function level the function's own key, else the host key, else the master
// key (Azure accepts all three); for admin level only the master key.
func (f *Filter) key(c RouteConfig) (string, error) {
	k := f.cfg.Keys[c.Upstream]
	var key string
	switch c.AuthLevel {
	case AuthAnonymous:
		return "", nil
	case AuthFunction:
		key = firstNonEmpty(k.FunctionKeys[c.FunctionName], k.HostKey, k.MasterKey)
	case AuthAdmin:
		key = k.MasterKey
	}
	if key == "" {
		return "", fmt.Errorf("no key for function %s (set a secret or let discovery read keys)", c.FunctionName)
	}
	return key, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
