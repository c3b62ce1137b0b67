package dataplane

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"testing"

	transcoderv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"google.golang.org/genproto/googleapis/api/annotations"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"

	fdsgrpc "github.com/gluon-gateway/gluon/fds/grpc"
)

// interopTranscoder is the transcoder of grpc-go's interop TestService
// with UnaryCall bound to POST /v1/unary (body "*").
func interopTranscoder(tb testing.TB) *transcoderRoute {
	tb.Helper()
	set, err := fdsgrpc.IncludeImports(testpb.File_grpc_testing_test_proto, annotations.File_google_api_annotations_proto)
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range set.File {
		for _, svc := range f.Service {
			for _, m := range svc.Method {
				if svc.GetName() == "TestService" && m.GetName() == "UnaryCall" {
					m.Options = &descriptorpb.MethodOptions{}
					proto.SetExtension(m.Options, annotations.E_Http, &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/unary"}, Body: "*"})
				}
			}
		}
	}
	raw, err := proto.Marshal(set)
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := anypb.New(&transcoderv3.GrpcJsonTranscoder{DescriptorSet: &transcoderv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: raw},
		Services: []string{"grpc.testing.TestService"}, ConvertGrpcStatus: true})
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := compileTranscoder(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// discardWriter is a ResponseWriter that keeps nothing but its headers.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkGRPCTranscoder is what the transcoder adds to a small unary
// call: the same upstream answer (a gRPC message and its trailers) reaches
// the client as is (passthrough), or as JSON from a JSON request
// (transcoded). The proxy path itself is the same in both.
func BenchmarkGRPCTranscoder(b *testing.B) {
	tr := interopTranscoder(b)
	reply, _ := proto.Marshal(&testpb.SimpleResponse{Username: "gluon", Hostname: "bench"})
	frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(reply)))
	frame = append(frame, reply...)
	upstream := func(w http.ResponseWriter, r *http.Request, _ *routeMatch) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = []string{"application/grpc"}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(frame)
		h[http.TrailerPrefix+"Grpc-Status"] = []string{"0"}
	}
	jsonBody := []byte(`{"responseSize":3,"fillUsername":true}`)
	grpcBody, _ := proto.Marshal(&testpb.SimpleRequest{ResponseSize: 3, FillUsername: true})
	grpcBody = append(binary.BigEndian.AppendUint32([]byte{0}, uint32(len(grpcBody))), grpcBody...)
	run := func(b *testing.B, body []byte, contentType, target string) {
		body2 := bytes.NewReader(body)
		w := &discardWriter{}
		b.ReportAllocs()
		for b.Loop() {
			body2.Reset(body)
			r := &http.Request{Method: http.MethodPost, Header: http.Header{"Content-Type": {contentType}}, Body: io.NopCloser(body2), ContentLength: int64(len(body))}
			w.h = http.Header{}
			m := &routeMatch{target: target}
			if contentType == "application/grpc" {
				upstream(w, r, m) // isGRPC: the filter passes it on
				continue
			}
			tr.serve(upstream, w, r, m)
			if m.target != "/grpc.testing.TestService/UnaryCall" {
				b.Fatal("not transcoded")
			}
		}
	}
	b.Run("passthrough", func(b *testing.B) { run(b, grpcBody, "application/grpc", "/grpc.testing.TestService/UnaryCall") })
	b.Run("transcoded", func(b *testing.B) { run(b, jsonBody, "application/json", "/v1/unary") })
}
