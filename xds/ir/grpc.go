package ir

// GRPCTranscode is JSON ↔ gRPC transcoding on a route, as Envoy's
// grpc_json_transcoder does it: requests are mapped to methods by the
// methods' HTTP rules (google.api.http annotations, plus Bindings).
type GRPCTranscode struct {
	// Descriptors is the serialised FileDescriptorSet of the services,
	// imports included.
	Descriptors []byte `json:"descriptors"`
	// Services are the full names of the services transcoded.
	Services []string `json:"services"`
	// Bindings give methods an HTTP rule of the route's own.
	Bindings []GRPCBinding `json:"bindings,omitempty"`
	// StreamNewlineDelimited writes streamed messages one JSON per line
	// instead of as a JSON array.
	StreamNewlineDelimited bool `json:"streamNewlineDelimited,omitempty"`
}

// GRPCBinding maps POST Path (a google.api.http path template) to Method
// (its full name, "pkg.Service.Method"), the body being the whole request
// message; query parameters fill the other fields.
type GRPCBinding struct {
	Method string `json:"method"`
	Path   string `json:"path"`
}
