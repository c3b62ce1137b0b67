package gateway

import (
	"fmt"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/transform/spec"
)

// templateSpec converts Gloo's template shape to the engine's spec.
func templateSpec(t *api.TransformationTemplate) *spec.Template {
	if t == nil {
		return nil
	}
	out := &spec.Template{
		ParseBodyBehavior:     spec.ParseBody(t.ParseBodyBehavior),
		StrictJSON:            t.StrictJSON,
		HeadersToRemove:       t.HeadersToRemove,
		Passthrough:           t.Passthrough != nil,
		MergeExtractorsToBody: t.MergeExtractorsToBody != nil,
	}
	if len(t.Extractors) > 0 {
		out.Extractors = map[string]spec.Extractor{}
		for name, x := range t.Extractors {
			out.Extractors[name] = spec.Extractor{Header: x.Header, Body: x.Body != nil, Regex: x.Regex, Subgroup: int(x.Subgroup), Mode: spec.ExtractMode(x.Mode), ReplacementText: x.ReplacementText}
		}
	}
	if len(t.Headers) > 0 {
		out.Headers = map[string]string{}
		for name, v := range t.Headers {
			out.Headers[name] = v.Text
		}
	}
	for _, h := range t.HeadersToAppend {
		out.HeadersToAppend = append(out.HeadersToAppend, spec.HeaderValue{Key: h.Key, Value: h.Value.Text})
	}
	if t.Body != nil {
		body := t.Body.Text
		out.Body = &body
	}
	return out
}

// routeTransformation builds a forwarded route's transformation: a REST
// function's request template and/or the route's free-form templates. It
// returns nil when the route transforms nothing; warnings are reasons worth
// reporting that do not stop the route.
func (t *translation) routeTransformation(ns string, r *api.Route) (s *spec.Spec, warnings []string, err error) {
	single := r.RouteAction.Single
	callsFunction := single != nil && single.DestinationSpec != nil && single.DestinationSpec.Rest != nil
	g := grpcDestination(r)
	callsGRPC := g != nil && g.Function != ""
	if r.Options.GetTransformations() == nil && !callsFunction && !callsGRPC {
		return nil, nil, nil // most routes: nothing to build
	}
	s = &spec.Spec{}
	if tr := r.Options.GetTransformations(); tr != nil {
		s.Request = templateSpec(tr.RequestTransformation.GetTemplate())
		s.Response = templateSpec(tr.ResponseTransformation.GetTemplate())
	}
	if callsFunction {
		rest := single.DestinationSpec.Rest
		if s.Request, warnings, err = t.restRequest(single.Upstream.Ref(ns), rest); err != nil {
			return nil, warnings, err
		}
		if rest.ResponseTransformation != nil {
			s.Response = templateSpec(rest.ResponseTransformation)
		}
		up := single.Upstream.Ref(ns)
		s.Function = &spec.Function{Upstream: up.Namespace + "/" + up.Name, Name: rest.FunctionName}
	}
	if callsGRPC {
		s.Request = grpcRequest(g, g.Function)
	}
	if s.Request == nil && s.Response == nil {
		return nil, warnings, nil
	}
	if _, err := t.engine.Compile(s); err != nil {
		return nil, warnings, &api.Error{Code: api.InvalidTemplate, Err: fmt.Errorf("transformation: %w", err)}
	}
	return s, warnings, nil
}
