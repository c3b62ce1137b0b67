// Command opa-authz is Open Policy Agent serving Envoy's external
// authorization gRPC API, as OPA's Envoy plugin does: each CheckRequest
// becomes the policy's input (the plugin's shape: input.attributes and
// input.parsed_path) and the decision is data.<package>.allow, a boolean or
// an object {allowed, headers, http_status, body}. The e2e tests run it,
// built once from the module proxy (scripts/opa-testenv), with their Rego
// policy; it listens on -addr until killed.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/open-policy-agent/opa/v1/rego"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9191", "gRPC listen address")
	policy := flag.String("policy", "", "Rego policy file (required)")
	query := flag.String("query", "data.envoy.authz.allow", "the decision")
	flag.Parse()
	src, err := os.ReadFile(*policy)
	if err != nil {
		log.Fatal(err)
	}
	pq, err := rego.New(rego.Query(*query), rego.Module(*policy, string(src))).PrepareForEval(context.Background())
	if err != nil {
		log.Fatalf("policy: %v", err)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	authv3.RegisterAuthorizationServer(srv, &authz{query: pq})
	log.Printf("opa-authz listening on %s", lis.Addr())
	log.Fatal(srv.Serve(lis))
}

type authz struct {
	authv3.UnimplementedAuthorizationServer
	query rego.PreparedEvalQuery
}

func (a *authz) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	input, err := inputOf(req)
	if err != nil {
		return nil, err
	}
	rs, err := a.query.Eval(ctx, rego.EvalInput(input))
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	d := decision{HTTPStatus: 403}
	if len(rs) == 1 && len(rs[0].Expressions) == 1 {
		switch v := rs[0].Expressions[0].Value.(type) {
		case bool:
			d.Allowed = v
		case map[string]any:
			b, _ := json.Marshal(v)
			_ = json.Unmarshal(b, &d)
		}
	}
	return d.response(), nil
}

// inputOf is the plugin's input: the CheckRequest as JSON, with the path
// split into segments.
func inputOf(req *authv3.CheckRequest) (map[string]any, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(req)
	if err != nil {
		return nil, err
	}
	var input map[string]any
	if err := json.Unmarshal(b, &input); err != nil {
		return nil, err
	}
	path := req.GetAttributes().GetRequest().GetHttp().GetPath()
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	var parsed []any
	for _, seg := range strings.Split(strings.Trim(path, "/"), "/") {
		if seg != "" {
			parsed = append(parsed, seg)
		}
	}
	input["parsed_path"] = parsed
	return input, nil
}

// decision is the policy's answer as an object.
type decision struct {
	Allowed    bool              `json:"allowed"`
	Headers    map[string]string `json:"headers"`
	HTTPStatus int32             `json:"http_status"`
	Body       string            `json:"body"`
}

func (d decision) response() *authv3.CheckResponse {
	var headers []*corev3.HeaderValueOption
	for k, v := range d.Headers {
		headers = append(headers, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: v}})
	}
	if d.Allowed {
		return &authv3.CheckResponse{Status: &status.Status{Code: int32(codes.OK)},
			HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{Headers: headers}}}
	}
	return &authv3.CheckResponse{Status: &status.Status{Code: int32(codes.PermissionDenied)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
			Status: &typev3.HttpStatus{Code: typev3.StatusCode(d.HTTPStatus)}, Headers: headers, Body: d.Body}}}
}
