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

	"github.com/gluon-gateway/gluon/envoy-filters/wire/azurewire"
)

// The wire contract, defined in azurewire.
const (
	PluginName           = azurewire.PluginName
	KindClientSecret     = azurewire.KindClientSecret
	KindManagedIdentity  = azurewire.KindManagedIdentity
	KindWorkloadIdentity = azurewire.KindWorkloadIdentity
	KindDefault          = azurewire.KindDefault
	AuthAnonymous        = azurewire.AuthAnonymous
	AuthFunction         = azurewire.AuthFunction
	AuthAdmin            = azurewire.AuthAdmin
)

type (
	Keys           = azurewire.Keys
	AAD            = azurewire.AAD
	ListenerConfig = azurewire.ListenerConfig
	RouteConfig    = azurewire.RouteConfig
)

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
