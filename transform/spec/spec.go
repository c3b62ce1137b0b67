// Package spec holds the transformation spec as plain data: what the IR
// carries and the filters receive, with no dependency on the template
// engine (package transform compiles it).
package spec

// Spec is the transformation of a route: of the request on its way to the
// upstream and of the response on its way back.
type Spec struct {
	Request  *Template `json:"request,omitempty"`
	Response *Template `json:"response,omitempty"`
	// Function names the REST function the route calls, if any: the
	// proxy counts and traces the call under it.
	Function *Function `json:"function,omitempty"`
}

// Function is a REST function: its upstream ("namespace/name") and name.
type Function struct {
	Upstream string `json:"upstream"`
	Name     string `json:"name"`
}

// ParseBody says how a body is read for templates.
type ParseBody string

// The body parsing behaviours.
const (
	// ParseAsJSON makes the body's JSON fields template variables; a body
	// that is not JSON just leaves them empty.
	ParseAsJSON ParseBody = "ParseAsJson"
	// DontParse leaves the body as bytes, available through body().
	DontParse ParseBody = "DontParse"
)

// Template is one transformation, Gloo's TransformationTemplate.
type Template struct {
	ParseBodyBehavior ParseBody `json:"parseBodyBehavior,omitempty"`
	// StrictJSON answers 400 when the body is not JSON (only with ParseAsJson).
	StrictJSON bool                 `json:"strictJson,omitempty"`
	Extractors map[string]Extractor `json:"extractors,omitempty"`
	// Headers sets headers (pseudo-headers :path, :method, :status too) to
	// rendered templates; an empty result removes the header.
	Headers         map[string]string `json:"headers,omitempty"`
	HeadersToAppend []HeaderValue     `json:"headersToAppend,omitempty"`
	HeadersToRemove []string          `json:"headersToRemove,omitempty"`
	// Exactly one of Body, Passthrough, MergeExtractorsToBody, or none
	// (the body is kept as it is).
	Body                  *string `json:"body,omitempty"`
	Passthrough           bool    `json:"passthrough,omitempty"`
	MergeExtractorsToBody bool    `json:"mergeExtractorsToBody,omitempty"`
}

// HeaderValue is a header to append, its value a template.
type HeaderValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ExtractMode says what an extractor produces.
type ExtractMode string

// The extractor modes, Gloo's names.
const (
	Extract       ExtractMode = "EXTRACT"
	SingleReplace ExtractMode = "SINGLE_REPLACE"
	ReplaceAll    ExtractMode = "REPLACE_ALL"
)

// Extractor takes a value out of a header or the body with a regex.
type Extractor struct {
	// Header names the source header; with neither Header nor Body set the
	// source is :path.
	Header string `json:"header,omitempty"`
	Body   bool   `json:"body,omitempty"`
	Regex  string `json:"regex"`
	// Subgroup is the capture group extracted (EXTRACT) or replaced
	// (SINGLE_REPLACE); 0 is the whole match.
	Subgroup        int         `json:"subgroup,omitempty"`
	Mode            ExtractMode `json:"mode,omitempty"`
	ReplacementText string      `json:"replacementText,omitempty"`
	// JSONType is how mergeExtractorsToBody writes the value: string
	// (default), number, integer or boolean (a value that does not parse
	// as that type is written as a string).
	JSONType string `json:"jsonType,omitempty"`
	// NoMerge keeps the extraction out of mergeExtractorsToBody (it feeds
	// a header or the path instead).
	NoMerge bool `json:"noMerge,omitempty"`
}
