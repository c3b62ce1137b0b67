// Package functions is the function-aware Upstream model: the functions an
// upstream exposes (REST operations, Lambda functions, Azure Functions),
// and a thread-safe catalog of what discovery found, with change
// notification.
package functions

// Kind is what sort of function something is.
type Kind string

// The function kinds.
const (
	KindREST   Kind = "REST"
	KindLambda Kind = "Lambda"
	KindAzure  Kind = "Azure"
	KindGRPC   Kind = "gRPC"
)

// UpstreamRef names an upstream.
type UpstreamRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

func (r UpstreamRef) String() string { return r.Namespace + "/" + r.Name }

// Function is one callable thing on an upstream.
type Function struct {
	Name   string          `json:"name"`
	Kind   Kind            `json:"kind"`
	REST   *RESTFunction   `json:"rest,omitempty"`
	Lambda *LambdaFunction `json:"lambda,omitempty"`
	Azure  *AzureFunction  `json:"azure,omitempty"`
	GRPC   *GRPCFunction   `json:"grpc,omitempty"`
}

// GRPCFunction is one method of a gRPC service. The Function's Name is the
// method's full name: "<package>.<Service>.<Method>".
type GRPCFunction struct {
	// Service is the service's full name ("<package>.<Service>").
	Service string `json:"service"`
	Method  string `json:"method"`
	// InputType and OutputType are the messages' full names.
	InputType       string `json:"inputType"`
	OutputType      string `json:"outputType"`
	ClientStreaming bool   `json:"clientStreaming,omitempty"`
	ServerStreaming bool   `json:"serverStreaming,omitempty"`
}

// AzureFunction is an HTTP-triggered function of an Azure Function App.
type AzureFunction struct {
	// FunctionName is the function's name in the app.
	FunctionName string `json:"functionName"`
	// Route is the HTTP trigger's route ("pets/{id?}"); it is served at
	// /api/<route> (the function's name when the trigger sets none).
	Route string `json:"route"`
	// AuthLevel is anonymous, function or admin.
	AuthLevel string   `json:"authLevel"`
	Methods   []string `json:"methods,omitempty"`
}

// AzureKeys are an app's keys as discovery read them through ARM. They are
// never serialised: status pages show functions, never keys.
type AzureKeys struct {
	// Function holds each function's default key.
	Function map[string]string `json:"-"`
	// Host is the app's default host key; Master its master (admin) key.
	Host   string `json:"-"`
	Master string `json:"-"`
}

// LambdaFunction is one invocable version or alias of an AWS Lambda
// function. The Function's Name is its logical name, Gloo's convention:
// "name" for $LATEST, "name:qualifier" for a version or an alias.
type LambdaFunction struct {
	// FunctionName is Lambda's name for the function.
	FunctionName string `json:"functionName"`
	// Qualifier is a version number or an alias name; empty for $LATEST.
	Qualifier string `json:"qualifier,omitempty"`
	ARN       string `json:"arn,omitempty"`
	Runtime   string `json:"runtime,omitempty"`
}

// RESTFunction is an HTTP operation, as an OpenAPI document describes it.
type RESTFunction struct {
	Method string `json:"method"`
	// Path is the path template, with {name} for path parameters.
	Path       string      `json:"path"`
	Parameters []Parameter `json:"parameters,omitempty"`
	// BodyContentType is the media type of the request body, if any.
	BodyContentType string `json:"bodyContentType,omitempty"`
	// Summary and Description are the operation's, as its document gives
	// them: what an agent reads to pick the function as a tool.
	Summary     string `json:"summary,omitempty"`
	Description string `json:"description,omitempty"`
}

// ParameterIn says where a parameter goes in the request.
type ParameterIn string

// Where parameters go.
const (
	InPath   ParameterIn = "path"
	InQuery  ParameterIn = "query"
	InHeader ParameterIn = "header"
	InBody   ParameterIn = "body" // a property of a JSON body
)

// Parameter is one input of a REST function.
type Parameter struct {
	Name     string      `json:"name"`
	In       ParameterIn `json:"in"`
	Required bool        `json:"required,omitempty"`
	// Type is the JSON schema type: string, number, integer, boolean,
	// object or array.
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

// Discovered is what discovery knows about one upstream's functions.
type Discovered struct {
	Upstream  UpstreamRef `json:"upstream"`
	Functions []Function  `json:"functions"`
	// Source says where the functions came from (a document URL, an API).
	Source string `json:"source,omitempty"`
	// Error is the last discovery failure; functions found before it stay.
	Error string `json:"error,omitempty"`
	// Skipped are parts of the source discovery could not read (a
	// reference it could not resolve): its functions lack what they held.
	Skipped []string `json:"skipped,omitempty"`
	// AzureKeys are set for Azure apps whose keys discovery could read.
	AzureKeys *AzureKeys `json:"-"`
	// GRPCDescriptors is the serialised FileDescriptorSet that defines a
	// gRPC upstream's services and every file they import: what JSON
	// transcoding needs. Status pages list functions, not this.
	GRPCDescriptors []byte `json:"-"`
}

// Find returns the function with the given name.
func (d *Discovered) Find(name string) (*Function, bool) {
	for i := range d.Functions {
		if d.Functions[i].Name == name {
			return &d.Functions[i], true
		}
	}
	return nil, false
}

// Names lists the function names, for error messages.
func (d *Discovered) Names() []string {
	out := make([]string, len(d.Functions))
	for i, f := range d.Functions {
		out[i] = f.Name
	}
	return out
}

// Parameter returns the parameter with the given name.
func (r *RESTFunction) Parameter(name string) (Parameter, bool) {
	for _, p := range r.Parameters {
		if p.Name == name {
			return p, true
		}
	}
	return Parameter{}, false
}
