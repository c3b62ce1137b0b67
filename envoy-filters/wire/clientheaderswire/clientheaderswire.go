// Package clientheaderswire is the wire contract of Gluon's client headers
// filter (golang plugin "gluon.client_headers"): its name, the type URLs of
// its configs and their JSON shapes. It imports nothing but the standard
// library, so the translator, the data plane and the Envoy plugin share it.
package clientheaderswire

// PluginName is the golang filter plugin; Gluon names the HTTP filter
// after it too.
const PluginName = "gluon.client_headers"

// The type URLs of the TypedStructs that carry the configs. The listener
// config is empty: everything is per route.
const (
	ListenerType = "gluon.dev/client_headers.ListenerConfig"
	RouteType    = "gluon.dev/client_headers.RouteConfig"
)

// RouteConfig says which headers an admitted client's requests carry. An
// authentication filter before this one (Envoy's api_key_auth) has put the
// client's id in ClientHeader, replacing whatever the caller sent there.
type RouteConfig struct {
	ClientHeader string `json:"clientHeader"`
	// RemoveClientHeader drops ClientHeader once read: it was Gluon's own,
	// not one the user asked to forward.
	RemoveClientHeader bool `json:"removeClientHeader,omitempty"`
	// Headers are, by client id, the headers its requests get (an API
	// key's metadata). Every header any client gets is first removed from
	// every request, so a caller cannot send its own value.
	Headers map[string]map[string]string `json:"headers"`
}
