package api

import (
	"net/url"
	"regexp"
	"strings"
)

func validateServiceSpec(f *fieldErrors, path string, s *ServiceSpec) {
	if s != nil && s.Rest != nil && s.GRPC != nil {
		f.add(path, "only one of rest, grpc may be set")
	}
	if g := s.GetGRPC(); g != nil && countSet(len(g.ProtoDescriptorBin) > 0, g.ProtoDescriptorFile != "") != 1 {
		f.add(path+".grpc", "exactly one of protoDescriptorBin, protoDescriptorFile must be set")
	}
	if s == nil || s.Rest == nil || s.Rest.SwaggerInfo == nil {
		return
	}
	si := s.Rest.SwaggerInfo
	path += ".rest.swaggerInfo"
	if si.URL != "" && si.Inline != "" {
		f.add(path, "only one of url, inline may be set")
	}
	if si.URL != "" {
		if u, err := url.Parse(si.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			f.add(path+".url", "%q is not an http(s) URL", si.URL)
		}
	}
}

func validateDestinationSpec(f *fieldErrors, path string, d *DestinationSpec) {
	if d == nil {
		return
	}
	n := countSet(d.Rest != nil, d.AWS != nil, d.Azure != nil, d.GRPC != nil)
	switch {
	case n > 1:
		f.add(path, "only one of rest, aws, azure, grpc may be set")
		return
	case d.GRPC != nil:
		if d.GRPC.Service == "" {
			f.add(path+".grpc.service", "is required")
		}
		if d.GRPC.Function == "" && d.GRPC.Parameters != nil {
			f.add(path+".grpc.parameters", "need a function: without one, the service's google.api.http annotations bind fields")
		}
		return
	case d.Azure != nil:
		if d.Azure.FunctionName == "" {
			f.add(path+".azure.functionName", "is required")
		}
		return
	case d.AWS != nil:
		validateAWSDestination(f, path+".aws", d.AWS)
		return
	case d.Rest == nil:
		f.add(path, "one of rest, aws, azure is required")
		return
	}
	path += ".rest"
	if d.Rest.FunctionName == "" {
		f.add(path+".functionName", "is required")
	}
	if p := d.Rest.Parameters; p != nil {
		for name, pattern := range p.Headers {
			if name == "" {
				f.add(path+".parameters.headers", "a header name is empty")
			}
			validatePattern(f, path+".parameters.headers["+name+"]", pattern)
		}
		if p.Path != "" {
			if !strings.HasPrefix(p.Path, "/") {
				f.add(path+".parameters.path", "must start with /, got %q", p.Path)
			}
			validatePattern(f, path+".parameters.path", p.Path)
		}
	}
	validateTemplate(f, path+".responseTransformation", d.Rest.ResponseTransformation)
}

var patternVar = regexp.MustCompile(`\{([^{}]*)\}`)
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// validatePattern checks a parameter pattern such as "Bearer {token}".
func validatePattern(f *fieldErrors, path, pattern string) {
	vars := patternVar.FindAllStringSubmatch(pattern, -1)
	if len(vars) == 0 {
		f.add(path, "%q names no parameter; write it as {name}", pattern)
	}
	for _, v := range vars {
		if !identifier.MatchString(v[1]) {
			f.add(path, "%q is not a parameter name", v[1])
		}
	}
	if rest := patternVar.ReplaceAllString(pattern, ""); strings.ContainsAny(rest, "{}") {
		f.add(path, "%q has unbalanced braces", pattern)
	}
}

func validateTransformations(f *fieldErrors, path string, t *Transformations) {
	if t == nil {
		return
	}
	for name, tr := range map[string]*Transformation{"requestTransformation": t.RequestTransformation, "responseTransformation": t.ResponseTransformation} {
		if tr == nil {
			continue
		}
		if tr.TransformationTemplate == nil {
			f.add(path+"."+name+".transformationTemplate", "is required")
			continue
		}
		validateTemplate(f, path+"."+name+".transformationTemplate", tr.TransformationTemplate)
	}
}

var extractModes = map[string]bool{"": true, "EXTRACT": true, "SINGLE_REPLACE": true, "REPLACE_ALL": true}

func validateTemplate(f *fieldErrors, path string, t *TransformationTemplate) {
	if t == nil {
		return
	}
	bodies := countSet(t.Body != nil, t.Passthrough != nil, t.MergeExtractorsToBody != nil)
	if bodies > 1 {
		f.add(path, "only one of body, passthrough, mergeExtractorsToBody may be set")
	}
	switch t.ParseBodyBehavior {
	case "", "ParseAsJson", "DontParse":
	default:
		f.add(path+".parseBodyBehavior", "%q is not one of ParseAsJson, DontParse", t.ParseBodyBehavior)
	}
	for name, x := range t.Extractors {
		p := path + ".extractors[" + name + "]"
		if !extractModes[x.Mode] {
			f.add(p+".mode", "%q is not one of EXTRACT, SINGLE_REPLACE, REPLACE_ALL", x.Mode)
		}
		if x.Header != "" && x.Body != nil {
			f.add(p, "only one of header, body may be set")
		}
		validateRegex(f, p+".regex", x.Regex)
	}
	for name := range t.Headers {
		if name == "" || strings.EqualFold(name, "host") {
			f.add(path+".headers", "%q cannot be set (use :authority)", name)
		}
	}
	for i, h := range t.HeadersToAppend {
		if h.Key == "" || strings.HasPrefix(h.Key, ":") {
			f.add(idx(path+".headersToAppend", i)+".key", "%q cannot be appended", h.Key)
		}
	}
}

// validateFunctionRoute checks what a route calling a function may combine.
func validateFunctionRoute(f *fieldErrors, path string, r *Route) {
	a := r.RouteAction
	if a == nil {
		return
	}
	if a.Multi != nil {
		for i, d := range a.Multi.Destinations {
			if d.Destination.DestinationSpec != nil {
				f.add(idx(path+".routeAction.multi.destinations", i)+".destination.destinationSpec", "functions can only be called from single destinations")
			}
		}
	}
	if a.Single == nil || a.Single.DestinationSpec == nil || a.Single.DestinationSpec.Rest == nil || r.Options == nil || r.Options.Transformations == nil {
		return
	}
	if r.Options.Transformations.RequestTransformation != nil {
		f.add(path+".options.transformations.requestTransformation", "a REST function builds the request itself; only a response transformation may be added")
	}
	if r.Options.Transformations.ResponseTransformation != nil && a.Single.DestinationSpec.Rest.ResponseTransformation != nil {
		f.add(path, "only one of destinationSpec.rest.responseTransformation, options.transformations.responseTransformation may be set")
	}
}

func validateDiscovery(f *fieldErrors, d *DiscoverySettings) {
	if d == nil {
		return
	}
	switch d.FdsMode {
	case "", FDSBlacklist, FDSWhitelist, FDSDisabled:
	default:
		f.add("spec.discovery.fdsMode", "%q is not one of BLACKLIST, WHITELIST, DISABLED", d.FdsMode)
	}
	validatePositive(f, "spec.discovery.pollInterval", d.PollInterval)
	if o := d.OpenAPI; o != nil {
		if o.MaxDocumentBytes < 0 {
			f.add("spec.discovery.openapi.maxDocumentBytes", "must not be negative")
		}
		if o.MaxOperations < 0 || o.MaxOperations > maxOpenAPIOperations {
			f.add("spec.discovery.openapi.maxOperations", "must be between 0 (the default) and %d", maxOpenAPIOperations)
		}
	}
}

// maxOpenAPIOperations is the most operations Settings may allow a
// document: a bound on the catalog, whatever the user asks.
const maxOpenAPIOperations = 100_000
