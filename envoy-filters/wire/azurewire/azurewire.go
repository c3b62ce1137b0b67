// Package azurewire is the wire contract of Gluon's Azure Functions filter
// (golang plugin "gluon.azure_functions"): its name, the type URLs of its
// configs and their JSON shapes. The translator writes these, the data
// plane and the Envoy plugin read them; it imports nothing but the
// standard library, so all three can share it.
package azurewire

// PluginName is the golang filter plugin; Gluon names the HTTP filter
// after it too.
const PluginName = "gluon.azure_functions"

// The type URLs of the TypedStructs that carry the configs.
const (
	ListenerType = "gluon.dev/azure_functions.ListenerConfig"
	RouteType    = "gluon.dev/azure_functions.RouteConfig"
)

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
