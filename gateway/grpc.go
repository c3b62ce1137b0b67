package gateway

import (
	"sort"
	"strings"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/transform/spec"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// grpcTimeoutHeaderMax is how far route r lets a gRPC request's
// grpc-timeout set its timeout: as its maxStreamDuration says, else
// uncapped when every upstream it forwards to speaks HTTP/2 (gRPC), else
// not at all.
func (t *translation) grpcTimeoutHeaderMax(ns string, r *api.Route) *ir.Duration {
	if msd := r.Options.GetMaxStreamDuration(); msd != nil {
		return optDuration(msd.GrpcTimeoutHeaderMax)
	}
	for _, d := range weightedDestinations(r.RouteAction) {
		if u, ok := t.upstreams[d.Destination.Upstream.Ref(ns)]; !ok || !u.Spec.UseHTTP2 {
			return nil
		}
	}
	return ir.NewDuration(0)
}

// routeGRPC is the JSON transcoding of a route whose destination is a
// gRPC service of its upstream: the descriptors discovery found, and for a
// route naming a function, a binding of that method.
func (t *translation) routeGRPC(ns string, r *api.Route) (*ir.GRPCTranscode, error) {
	g := grpcDestination(r)
	if g == nil {
		return nil, nil
	}
	ref := r.RouteAction.Single.Upstream.Ref(ns)
	svc := g.FullService()
	out := &ir.GRPCTranscode{Services: []string{svc}, StreamNewlineDelimited: g.StreamNewlineDelimited}
	isGRPC := func(f *functions.Function) bool { return f.GRPC != nil }
	if g.Function != "" {
		fn, err := t.discovered(ref, svc+"."+g.Function, "gRPC ", isGRPC)
		if err != nil {
			return nil, err
		}
		out.Bindings = []ir.GRPCBinding{{Method: fn.Name, Path: grpcCallPath(fn.GRPC)}}
	}
	d := t.functions[functions.UpstreamRef{Namespace: ref.Namespace, Name: ref.Name}]
	if len(d.GRPCDescriptors) == 0 {
		return nil, api.Errorf(api.FunctionNotFound, "", "no gRPC functions have been discovered on upstream %s (yet)", ref)
	}
	if g.Function == "" && !hasGRPCService(d, svc) {
		return nil, api.Errorf(api.FunctionNotFound, "", "gRPC service %q not found on upstream %s", svc, ref)
	}
	out.Descriptors = d.GRPCDescriptors
	return out, nil
}

func grpcDestination(r *api.Route) *api.GRPCDestinationSpec {
	if single := r.RouteAction.Single; single != nil && single.DestinationSpec != nil {
		return single.DestinationSpec.GRPC
	}
	return nil
}

func hasGRPCService(d functions.Discovered, svc string) bool {
	for _, f := range d.Functions {
		if f.GRPC != nil && f.GRPC.Service == svc {
			return true
		}
	}
	return false
}

// grpcCallPath is the path a gRPC call of the method goes to; the route's
// binding maps POST on it (with a JSON body) to the method.
func grpcCallPath(f *functions.GRPCFunction) string { return "/" + f.Service + "/" + f.Method }

// grpcQueryExtraction carries the request's own query to the method call.
const grpcQueryExtraction = "__query"

// grpcRequest is the request template of a route calling a gRPC function:
// POST to the method's path, the parameters the route's patterns extract
// in the query (where the transcoder binds them to fields), after the
// request's own query.
func grpcRequest(g *api.GRPCDestinationSpec, fn string) *spec.Template {
	extractors := parameterExtractors(g.Parameters)
	names := make([]string, 0, len(extractors))
	for n := range extractors {
		names = append(names, n)
	}
	sort.Strings(names)
	query := []string{`{{ extraction("` + grpcQueryExtraction + `") }}`}
	for _, n := range names {
		value := `{{ extraction("` + n + `") }}`
		if extractors[n].Header != ":path" {
			value = `{{ extraction("` + n + `")|urlencode }}` // a path's values come escaped already
		}
		query = append(query, n+"="+value)
	}
	extractors[grpcQueryExtraction] = spec.Extractor{Header: ":path", Regex: `^[^?]*\?(.*)$`, Subgroup: 1}
	for n, x := range extractors {
		x.NoMerge = true
		extractors[n] = x
	}
	return &spec.Template{Extractors: extractors, Headers: map[string]string{
		":method": "POST",
		":path":   "/" + g.FullService() + "/" + fn + "?" + strings.Join(query, "&"),
	}}
}
