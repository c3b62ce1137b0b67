package api

// Transformations are a route's free-form request and response
// transformations, Gloo's shape.
type Transformations struct {
	RequestTransformation  *Transformation `json:"requestTransformation,omitempty"`
	ResponseTransformation *Transformation `json:"responseTransformation,omitempty"`
}

// Transformation wraps a template, as Gloo does.
type Transformation struct {
	TransformationTemplate *TransformationTemplate `json:"transformationTemplate"`
}

// TransformationTemplate is Gloo's transformation template; templates are
// pongo2 (Django-style) rather than inja, with Gloo's functions: header(),
// extraction(), body(), context(), base64_encode() and the rest.
type TransformationTemplate struct {
	Extractors      map[string]Extraction   `json:"extractors,omitempty"`
	Headers         map[string]InjaTemplate `json:"headers,omitempty"`
	HeadersToAppend []HeaderToAppend        `json:"headersToAppend,omitempty"`
	HeadersToRemove []string                `json:"headersToRemove,omitempty"`
	// At most one of Body, Passthrough, MergeExtractorsToBody.
	Body                  *InjaTemplate `json:"body,omitempty"`
	Passthrough           *Empty        `json:"passthrough,omitempty"`
	MergeExtractorsToBody *Empty        `json:"mergeExtractorsToBody,omitempty"`
	// ParseBodyBehavior is ParseAsJson (default) or DontParse.
	ParseBodyBehavior string `json:"parseBodyBehavior,omitempty"`
	// StrictJSON answers 400 to a body that is not JSON; by default such a
	// body is simply not parsed.
	StrictJSON bool `json:"strictJson,omitempty"`
}

// InjaTemplate is a template string (the name is Gloo's).
type InjaTemplate struct {
	Text string `json:"text"`
}

// HeaderToAppend appends a templated header value.
type HeaderToAppend struct {
	Key   string       `json:"key"`
	Value InjaTemplate `json:"value"`
}

// Extraction takes a value out of a header (or :path) or the body.
type Extraction struct {
	Header          string `json:"header,omitempty"`
	Body            *Empty `json:"body,omitempty"`
	Regex           string `json:"regex"`
	Subgroup        uint32 `json:"subgroup,omitempty"`
	Mode            string `json:"mode,omitempty"`
	ReplacementText string `json:"replacementText,omitempty"`
}

// DestinationSpec says which function of the upstream a route calls.
type DestinationSpec struct {
	Rest  *RestDestinationSpec  `json:"rest,omitempty"`
	GRPC  *GRPCDestinationSpec  `json:"grpc,omitempty"`
	AWS   *AWSDestinationSpec   `json:"aws,omitempty"`
	Azure *AzureDestinationSpec `json:"azure,omitempty"`
}

// RestDestinationSpec calls a REST function discovered on the upstream.
type RestDestinationSpec struct {
	FunctionName string `json:"functionName"`
	// Parameters say where the function's parameters come from: patterns
	// such as "{id}" or "Bearer {token}" over request headers, and over the
	// request path.
	Parameters             *Parameters             `json:"parameters,omitempty"`
	ResponseTransformation *TransformationTemplate `json:"responseTransformation,omitempty"`
}

// GRPCDestinationSpec calls a gRPC method of the upstream with JSON in and
// out (JSON transcoding, protojson's mapping).
type GRPCDestinationSpec struct {
	// Package and Service name the service ("helloworld", "Greeter").
	Package string `json:"package,omitempty"`
	Service string `json:"service"`
	// Function is the method the route calls, its JSON body the request
	// message. Left out, the service's google.api.http annotations map
	// requests to methods.
	Function string `json:"function,omitempty"`
	// Parameters fill request message fields (by name, "a.b" for nested
	// ones) from patterns over the path and headers; the request's query
	// parameters fill fields too.
	Parameters *Parameters `json:"parameters,omitempty"`
	// StreamNewlineDelimited answers a server-streaming method with one
	// JSON message per line instead of a JSON array.
	StreamNewlineDelimited bool `json:"streamNewlineDelimited,omitempty"`
}

// FullService is the service's full name.
func (g *GRPCDestinationSpec) FullService() string {
	if g.Package == "" {
		return g.Service
	}
	return g.Package + "." + g.Service
}

// Parameters map request parts to function parameters by pattern.
type Parameters struct {
	Headers map[string]string `json:"headers,omitempty"`
	Path    string            `json:"path,omitempty"`
}

// GetTransformations returns the route's transformations (nil-safe).
func (o *RouteOptions) GetTransformations() *Transformations {
	if o == nil {
		return nil
	}
	return o.Transformations
}

// GetTemplate returns the wrapped template (nil-safe).
func (t *Transformation) GetTemplate() *TransformationTemplate {
	if t == nil {
		return nil
	}
	return t.TransformationTemplate
}
