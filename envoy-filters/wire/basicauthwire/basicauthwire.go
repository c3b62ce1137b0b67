// Package basicauthwire is the wire contract of Gluon's basic auth filter
// (golang plugin "gluon.basic_auth"): its name, the type URLs of its
// configs and their JSON shapes. It imports nothing but the standard
// library, so the translator, the data plane and the Envoy plugin share it.
package basicauthwire

// PluginName is the golang filter plugin; Gluon names the HTTP filter
// after it too.
const PluginName = "gluon.basic_auth"

// The type URLs of the TypedStructs that carry the configs. The listener
// config is empty: everything is per route.
const (
	ListenerType = "gluon.dev/basic_auth.ListenerConfig"
	RouteType    = "gluon.dev/basic_auth.RouteConfig"
)

// RouteConfig is a route's users. Gluon uses this filter in Envoy in place
// of Envoy's basic_auth for users with bcrypt hashes, which Envoy's
// filter does not read.
type RouteConfig struct {
	// Users is an htpasswd file: user:hash lines, bcrypt or {SHA}. It is a
	// secret: redacted wherever config is shown.
	Users string `json:"users"`
	// ForwardUsernameHeader, when set, carries the user's name upstream.
	ForwardUsernameHeader string `json:"forwardUsernameHeader,omitempty"`
}
