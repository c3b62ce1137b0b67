package dataplane

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	transcoderv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gluon-gateway/gluon/dataplane/internal/transcode"
)

const transcoderType = "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder"

// grpcTranscoderFilterDef is Envoy's grpc_json_transcoder: a JSON request
// that matches an HTTP rule of a configured method becomes a gRPC call,
// and its answer JSON. Other requests (gRPC ones included) pass as they
// are. The route stays the one first matched (match_incoming_request_route
// is how this data plane always routes).
func grpcTranscoderFilterDef() httpFilterDef {
	return httpFilterDef{
		name: "envoy.filters.http.grpc_json_transcoder", typeURL: transcoderType, disableable: true,
		compile: func(name string, cfg *anypb.Any) (httpFilter, error) {
			t, err := compileTranscoder(cfg)
			if err != nil {
				return nil, err
			}
			return &grpcTranscoderFilter{name: name, listener: t}, nil
		},
		perRouteType: transcoderType,
		compilePerRoute: func(cfg *anypb.Any) (any, error) {
			return compileTranscoder(cfg)
		},
	}
}

// compileTranscoder accepts the settings the native transcoder honours.
func compileTranscoder(cfg *anypb.Any) (*transcoderRoute, error) {
	c := &transcoderv3.GrpcJsonTranscoder{}
	if err := decodeAny(cfg, c); err != nil {
		return nil, err
	}
	if err := onlyFields(c, "proto_descriptor_bin", "services", "print_options", "match_incoming_request_route",
		"ignore_unknown_query_parameters", "convert_grpc_status", "query_param_unescape_plus", "max_request_body_size", "max_response_body_size"); err != nil {
		return nil, err
	}
	po := c.GetPrintOptions()
	if err := onlyFields(po, "add_whitespace", "always_print_primitive_fields", "always_print_enums_as_ints",
		"preserve_proto_field_names", "stream_newline_delimited"); err != nil {
		return nil, fmt.Errorf("print_options: %w", err)
	}
	opts := transcode.Options{IgnoreUnknownQueryParameters: c.GetIgnoreUnknownQueryParameters(),
		StreamNewlineDelimited: po.GetStreamNewlineDelimited(), EmitUnpopulated: po.GetAlwaysPrintPrimitiveFields(),
		UseEnumNumbers: po.GetAlwaysPrintEnumsAsInts(), UseProtoNames: po.GetPreserveProtoFieldNames(), Indent: po.GetAddWhitespace()}
	t, err := transcode.Compile(c.GetProtoDescriptorBin(), c.GetServices(), opts)
	if err != nil {
		return nil, err
	}
	out := &transcoderRoute{t: t, convertStatus: c.GetConvertGrpcStatus(), unescapePlus: c.GetQueryParamUnescapePlus(),
		maxRequest: maxRetryBodyBytes, maxResponse: maxRetryBodyBytes}
	if v := c.GetMaxRequestBodySize(); v != nil {
		out.maxRequest = int(v.GetValue())
	}
	if v := c.GetMaxResponseBodySize(); v != nil {
		out.maxResponse = int(v.GetValue())
	}
	return out, nil
}

// transcoderRoute is one compiled transcoder config.
type transcoderRoute struct {
	t                       *transcode.Transcoder
	convertStatus           bool
	unescapePlus            bool // "+" in a query is a space
	maxRequest, maxResponse int
}

// grpcTranscoderFilter is the transcoder on one listener.
type grpcTranscoderFilter struct {
	name     string
	listener *transcoderRoute
	disabled bool
}

func (f *grpcTranscoderFilter) disableByDefault() { f.disabled = true }

func (f *grpcTranscoderFilter) withRoutes(rt *routeTable) (middleware, error) {
	routes, err := nativeRouteConfigs[*transcoderRoute](rt, f.name, "GrpcJsonTranscoder")
	if err != nil {
		return nil, err
	}
	return func(next handler, _ map[string]*upstreamCluster) handler {
		return func(w http.ResponseWriter, r *http.Request, m *routeMatch) {
			tr := f.listener
			if f.disabled {
				tr = nil
			}
			if m.route != nil && routes[m.route.idx] != nil {
				tr = routes[m.route.idx]
			}
			if tr == nil || isGRPC(r) {
				next(w, r, m)
				return
			}
			tr.serve(next, w, r, m)
		}
	}, nil
}

// serve transcodes a request that matches a rule; one that does not goes
// on untouched, as in Envoy.
func (tr *transcoderRoute) serve(next handler, w http.ResponseWriter, r *http.Request, m *routeMatch) {
	path, rawQuery, _ := strings.Cut(m.target, "?")
	b, vars, ok := tr.t.Match(r.Method, path)
	if !ok {
		next(w, r, m)
		return
	}
	body, tooLarge, err := readBody(r, tr.maxRequest)
	switch {
	case err != nil:
		localReply(w, http.StatusBadRequest, "")
		return
	case tooLarge:
		localReply(w, http.StatusRequestEntityTooLarge, payloadTooLarge)
		return
	}
	query, err := parseQuery(rawQuery, tr.unescapePlus)
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	frames, err := b.Request(body, vars, query)
	if err != nil {
		if errors.As(err, new(*transcode.RequestError)) {
			jsonError(w, http.StatusBadRequest, err.Error())
			return
		}
		localReply(w, http.StatusInternalServerError, err.Error())
		return
	}
	r.Method = http.MethodPost
	m.target = b.CallPath
	tw := &transcodeWriter{w: w, route: tr, header: http.Header{}}
	tw.resp.Reset(b)
	tw.body.Reset(frames)
	r.Body, r.ContentLength = &tw.body, int64(len(frames))
	r.TransferEncoding = nil
	h := r.Header
	h["Content-Type"], h["Te"] = grpcContentType, teTrailers
	delete(h, "Content-Length")  // r.ContentLength says it
	delete(h, "Accept-Encoding") // the answer must come uncompressed to be read
	next(tw, r, m)
	tw.finish()
}

// Header values the transcoder sets, shared as headers.go's are.
var (
	grpcContentType = []string{"application/grpc"}
	jsonContentType = []string{"application/json"}
)

// frameBody is a request body of gRPC frames.
type frameBody struct{ bytes.Reader }

func (*frameBody) Close() error { return nil }

// parseQuery reads a query as the transcoder does: empty parameters (as
// "a=1&&b=2" has) are skipped, and so are empty values (a field's default
// anyway: a function call's parameter the request did not supply); "+" is
// a space only when unescapePlus.
func parseQuery(raw string, unescapePlus bool) (map[string][]string, error) {
	if raw == "" {
		return nil, nil
	}
	out := map[string][]string{}
	urlUnescape := url.PathUnescape
	if unescapePlus {
		urlUnescape = url.QueryUnescape
	}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if v == "" {
			continue
		}
		key, err := urlUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("query parameter %q: %w", k, err)
		}
		value, err := urlUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("query parameter %q: %w", k, err)
		}
		out[key] = append(out[key], value)
	}
	return out, nil
}

// jsonError answers a request the transcoder refused, as a JSON status.
func jsonError(w http.ResponseWriter, code int, msg string) {
	body := transcode.StatusJSON(3, msg, "") // INVALID_ARGUMENT
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}
