// Package transformationwire is the wire contract of Gluon's
// transformation filter (golang plugin "gluon.transformation"): its name,
// the type URLs of its configs and the listener config's JSON shape (a
// route's is transform/spec.Spec). The translator writes these, the data
// plane and the Envoy plugin read them; it imports nothing but the
// standard library, so all three can share it.
package transformationwire

// PluginName is the golang filter plugin; Gluon names the HTTP filter
// after it too.
const PluginName = "gluon.transformation"

// The type URLs of the TypedStructs that carry the configs.
const (
	ListenerType = "gluon.dev/transformation.ListenerConfig"
	RouteType    = "gluon.dev/transformation.Spec"
)

// ListenerConfig is the filter's listener-level config.
type ListenerConfig struct {
	// AllowedEnv names the environment variables templates may read with
	// env(); the values are read where the filter runs.
	AllowedEnv []string `json:"allowedEnv,omitempty"`
}
