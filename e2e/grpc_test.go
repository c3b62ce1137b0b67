package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/interop"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	fdsgrpc "github.com/gluon-gateway/gluon/fds/grpc"
)

// startGRPCServer serves grpc-go's interop TestService and the health
// service on loopback, with server reflection when reflect is set.
func startGRPCServer(t *testing.T, reflect bool) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(s, interop.NewTestServer())
	healthpb.RegisterHealthServer(s, health.NewServer())
	if reflect {
		reflection.Register(s)
	}
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// startTLSGRPCServer serves the interop TestService over TLS with site's
// certificate.
func startTLSGRPCServer(t *testing.T, site httpsSite) string {
	t.Helper()
	cert, err := tls.X509KeyPair(site.cert, site.key)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
	testgrpc.RegisterTestServiceServer(s, interop.NewTestServer())
	reflection.Register(s)
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// startFlakyGRPCServer answers any method with an Empty, failing every
// other call with UNAVAILABLE (trailers-only, as grpc-go sends an error
// before any message).
func startFlakyGRPCServer(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	s := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		if err := stream.RecvMsg(&testpb.Empty{}); err != nil {
			return err
		}
		if calls.Add(1)%2 == 1 {
			return status.Error(codes.Unavailable, "warming up")
		}
		return stream.SendMsg(&testpb.Empty{})
	}))
	go s.Serve(lis)
	t.Cleanup(s.Stop)
	return lis.Addr().String()
}

// grpcUpstream is an Upstream for a gRPC server at addr, its functions
// discovered unless discovery is "disabled".
func grpcUpstream(name, addr, discovery, extra string) string {
	return `apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: ` + name + `, labels: {discovery.gluon.dev/function_discovery: ` + discovery + `}}
spec:
  useHttp2: true
  static: {hosts: [{addr: 127.0.0.1, port: ` + portOf(addr) + `}]` + extra + `}
`
}

// TestGRPCPassthrough: grpc-go's client reaches grpc-go's interop server
// through the gateway over h2c: unary with metadata and trailers echoed, a
// non-OK status intact, server streaming, bidirectional streaming; a
// grpc-timeout shorter than the method's run is answered by the gateway
// with DEADLINE_EXCEEDED.
func TestGRPCPassthrough(t *testing.T) {
	srv := startGRPCServer(t, true)
	flaky := startFlakyGRPCServer(t)
	ca := newTestCA(t)
	site := newSite(t, ca, "grpc.test")
	secure := startTLSGRPCServer(t, site)
	gw, cp := startGateway(t, grpcUpstream("interop", srv, "disabled", "")+"---\n"+grpcUpstream("flaky", flaky, "disabled", "")+"---\n"+
		grpcUpstream("secure", secure, "enabled", "")+"  sslConfig: {sni: grpc.test, secretRef: {name: grpc-ca}}\n---\n"+
		tlsSecretYAML("grpc-ca", site, ca.pem)+`---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /grpc.testing.TestService/, headers: [{name: x-tls, value: "yes"}]}]
      routeAction: {single: {upstream: {name: secure}}}
    - matchers: [{prefix: /grpc.testing.TestService/}]
      routeAction: {single: {upstream: {name: interop}}}
    - matchers: [{prefix: /flaky.Retried/}]
      options: {retries: {retryOn: "unavailable,resource-exhausted", numRetries: 1}}
      routeAction: {single: {upstream: {name: flaky}}}
    - matchers: [{prefix: /flaky.Plain/}]
      routeAction: {single: {upstream: {name: flaky}}}
`)
	conn, err := grpc.NewClient(gw, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := testgrpc.NewTestServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	waitFor(t, 10*time.Second, "gRPC route served", func() bool {
		_, err := client.EmptyCall(ctx, &testpb.Empty{})
		return err == nil
	})

	t.Run("unary with metadata and trailers", func(t *testing.T) {
		md := metadata.Pairs("x-grpc-test-echo-initial", "hello", "x-grpc-test-echo-trailing-bin", string([]byte{0, 1, 2, 0xff}))
		var header, trailer metadata.MD
		resp, err := client.UnaryCall(metadata.NewOutgoingContext(ctx, md),
			&testpb.SimpleRequest{ResponseSize: 314}, grpc.Header(&header), grpc.Trailer(&trailer))
		if err != nil || len(resp.GetPayload().GetBody()) != 314 {
			t.Fatalf("UnaryCall: %v, %d bytes", err, len(resp.GetPayload().GetBody()))
		}
		if got := header.Get("x-grpc-test-echo-initial"); len(got) != 1 || got[0] != "hello" {
			t.Errorf("initial metadata echoed: %q", got)
		}
		if got := trailer.Get("x-grpc-test-echo-trailing-bin"); len(got) != 1 || got[0] != string([]byte{0, 1, 2, 0xff}) {
			t.Errorf("binary trailer echoed: %q", got)
		}
	})
	t.Run("non-OK status", func(t *testing.T) {
		_, err := client.UnaryCall(ctx, &testpb.SimpleRequest{ResponseStatus: &testpb.EchoStatus{Code: int32(codes.FailedPrecondition), Message: "not now: ünïcode"}})
		if st := status.Convert(err); st.Code() != codes.FailedPrecondition || st.Message() != "not now: ünïcode" {
			t.Fatalf("status through the gateway: %v", err)
		}
	})
	t.Run("server streaming", func(t *testing.T) {
		stream, err := client.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{
			{Size: 10}, {Size: 20000, IntervalUs: 50000}, {Size: 30}}})
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int
		for {
			m, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(m.GetPayload().GetBody()))
		}
		if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 20000 || sizes[2] != 30 {
			t.Fatalf("streamed messages: %v", sizes)
		}
	})
	t.Run("bidirectional streaming", func(t *testing.T) {
		md := metadata.Pairs("x-grpc-test-echo-initial", "duplex")
		stream, err := client.FullDuplexCall(metadata.NewOutgoingContext(ctx, md))
		if err != nil {
			t.Fatal(err)
		}
		// Each answer arrives before the next request is sent: the gateway
		// forwards both directions as they go, buffering neither.
		for i, size := range []int32{5, 70000, 7} {
			if err := stream.Send(&testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: size}}}); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
			m, err := stream.Recv()
			if err != nil || len(m.GetPayload().GetBody()) != int(size) {
				t.Fatalf("answer %d: %v, %d bytes", i, err, len(m.GetPayload().GetBody()))
			}
		}
		if h, err := stream.Header(); err != nil || h.Get("x-grpc-test-echo-initial")[0] != "duplex" {
			t.Errorf("duplex initial metadata: %v %v", h, err)
		}
		stream.CloseSend()
		if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
			t.Fatalf("end of duplex stream: %v", err)
		}
	})
	t.Run("to an upstream over TLS (ALPN h2), discovered there too", func(t *testing.T) {
		md := metadata.Pairs("x-tls", "yes")
		stream, err := client.StreamingOutputCall(metadata.NewOutgoingContext(ctx, md), &testpb.StreamingOutputCallRequest{
			ResponseParameters: []*testpb.ResponseParameters{{Size: 3}, {Size: 4}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []int{3, 4} {
			m, err := stream.Recv()
			if err != nil || len(m.GetPayload().GetBody()) != want {
				t.Fatalf("over TLS: %v %d", err, len(m.GetPayload().GetBody()))
			}
		}
		waitFor(t, 10*time.Second, "functions discovered over TLS", func() bool {
			_, body := get(t, "http://"+cp.admin+"/statusz", nil)
			return strings.Contains(body, "grpc.testing.TestService.FullDuplexCall")
		})
	})
	t.Run("retry on gRPC status", func(t *testing.T) {
		// The flaky server fails every other call with UNAVAILABLE.
		for i := range 4 {
			if err := conn.Invoke(ctx, "/flaky.Retried/Call", &testpb.Empty{}, &testpb.Empty{}); err != nil {
				t.Fatalf("retried call %d: %v", i, err)
			}
		}
		var failed int
		for range 4 {
			if err := conn.Invoke(ctx, "/flaky.Plain/Call", &testpb.Empty{}, &testpb.Empty{}); status.Code(err) == codes.Unavailable {
				failed++
			}
		}
		if failed != 2 {
			t.Fatalf("%d of 4 calls without retries failed, want 2", failed)
		}
	})
	t.Run("grpc-timeout honoured by the gateway", func(t *testing.T) {
		// A raw HTTP/2 request, so that no client-side deadline answers
		// for the gateway: the method would run for 3 s.
		req := &testpb.StreamingOutputCallRequest{ResponseParameters: []*testpb.ResponseParameters{{Size: 1, IntervalUs: 3_000_000}}}
		start := time.Now()
		resp := rawGRPC(t, "http://"+gw+"/grpc.testing.TestService/StreamingOutputCall", req, map[string]string{"grpc-timeout": "200m"})
		took := time.Since(start)
		if got := grpcStatusOf(resp); got != "4" || took > 2*time.Second {
			t.Fatalf("grpc-status %q after %v (HTTP %d %v %v), want 4 (DEADLINE_EXCEEDED) well before the method's 3 s", got, took, resp.StatusCode, resp.Header, resp.Trailer)
		}
	})
}

// rawGRPC sends one gRPC message over h2c with Go's HTTP/2 transport and
// returns the response, its body read (so trailers are in).
func rawGRPC(t *testing.T, url string, m proto.Message, headers map[string]string) *http.Response {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 5, 5+len(b))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(b)))
	all := map[string]string{"content-type": "application/grpc", "te": "trailers"}
	maps.Copy(all, headers)
	resp, _ := h2cRequest(t, http.MethodPost, url, all, append(frame, b...))
	return resp
}

// h2cRequest sends a request over h2c (HTTP/2 without TLS, by prior
// knowledge) and returns the response and its body, read whole.
func h2cRequest(t *testing.T, method, url string, headers map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	h2c := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	resp, err := (&http.Client{Transport: h2c, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, got
}

// grpcStatusOf is the response's grpc-status, from its trailers or (a
// trailers-only response) its headers.
func grpcStatusOf(resp *http.Response) string {
	if s := resp.Trailer.Get("grpc-status"); s != "" {
		return s
	}
	return resp.Header.Get("grpc-status")
}

// TestGRPCTranscoding: JSON routes call gRPC methods discovered by
// reflection, and the same methods of a server without reflection from a
// descriptor set in config; a path parameter fills a field, a non-OK
// status maps to its HTTP status, a stream comes back whole; bad input
// gets clear errors while the other routes keep serving.
func TestGRPCTranscoding(t *testing.T) {
	reflecting := startGRPCServer(t, true)
	bare := startGRPCServer(t, false)
	web := startBackend(t, "web", nil)
	setFile := filepath.Join(t.TempDir(), "interop.pb")
	if err := os.WriteFile(setFile, interopDescriptorSet(t), 0o600); err != nil {
		t.Fatal(err)
	}
	call := func(path string) string {
		return `{single: {upstream: {name: interop}, destinationSpec: {grpc: {package: grpc.testing, service: TestService, ` + path + `}}}}`
	}
	gw, cp := startGateway(t, grpcUpstream("interop", reflecting, "enabled", "")+"---\n"+
		grpcUpstream("bare", bare, "enabled", ", serviceSpec: {grpc: {protoDescriptorFile: "+setFile+"}}")+"---\n"+
		grpcUpstream("broken", bare, "enabled", ", serviceSpec: {grpc: {protoDescriptorBin: bm90IGEgZGVzY3JpcHRvcg==}}")+"---\n"+
		grpcUpstream("web", web.addr, "enabled", "")+`---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: default}
spec:
  virtualHost:
    routes:
    - matchers: [{prefix: /unary/}]
      routeAction: `+call(`function: UnaryCall, parameters: {path: "/unary/{responseSize}", headers: {x-user: "{fillUsername}"}}`)+`
    - matchers: [{prefix: /stream}]
      routeAction: `+call(`function: StreamingOutputCall`)+`
    - matchers: [{prefix: /lines}]
      routeAction: `+call(`function: StreamingOutputCall, streamNewlineDelimited: true`)+`
    - matchers: [{prefix: /nope}]
      routeAction: `+call(`function: NoSuchMethod`)+`
    - matchers: [{prefix: /v1/}]
      routeAction: {single: {upstream: {name: bare}, destinationSpec: {grpc: {package: grpc.testing, service: TestService}}}}
    - matchers: [{prefix: /bare}]
      routeAction: {single: {upstream: {name: bare}, destinationSpec: {grpc: {package: grpc.testing, service: TestService, function: UnaryCall}}}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: interop}}}
`)
	base := "http://" + gw
	waitFor(t, 15*time.Second, "gRPC functions discovered and routed", func() bool {
		code, _, _ := send(t, http.MethodPost, base+"/unary/1", nil, "{}")
		codeBare, _, _ := send(t, http.MethodPost, base+"/bare", nil, "{}")
		return code == 200 && codeBare == 200
	})

	t.Run("a path parameter fills a field", func(t *testing.T) {
		code, body, h := send(t, http.MethodPost, base+"/unary/7", map[string]string{"x-user": "true"}, `{"responseType":"COMPRESSABLE"}`)
		var got struct {
			Payload struct{ Body []byte }
		}
		if code != 200 || h.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &got) != nil || len(got.Payload.Body) != 7 {
			t.Fatalf("POST /unary/7: %d %s %v", code, body, h)
		}
	})
	t.Run("NOT_FOUND becomes 404", func(t *testing.T) {
		code, body, _ := send(t, http.MethodPost, base+"/unary/1", nil, `{"responseStatus":{"code":5,"message":"no such pet"}}`)
		if code != 404 || body != `{"code":5,"message":"no such pet"}` {
			t.Fatalf("NOT_FOUND: %d %s", code, body)
		}
	})
	t.Run("a stream returns every message", func(t *testing.T) {
		req := `{"responseParameters":[{"size":1},{"size":2,"intervalUs":20000},{"size":3}]}`
		code, body, _ := send(t, http.MethodPost, base+"/stream", nil, req)
		var msgs []struct{ Payload struct{ Body []byte } }
		if code != 200 || json.Unmarshal([]byte(body), &msgs) != nil || len(msgs) != 3 || len(msgs[2].Payload.Body) != 3 {
			t.Fatalf("streamed as a JSON array: %d %s", code, body)
		}
		code, body, _ = send(t, http.MethodPost, base+"/lines", nil, req)
		if lines := strings.Split(strings.TrimSpace(body), "\n"); code != 200 || len(lines) != 3 || !strings.HasPrefix(lines[0], `{"payload"`) {
			t.Fatalf("streamed as lines: %d %q", code, body)
		}
	})
	t.Run("a descriptor set in config gives the same functions", func(t *testing.T) {
		if code, body, _ := send(t, http.MethodPost, base+"/bare", nil, `{"responseSize":4}`); code != 200 || !strings.Contains(body, `"payload"`) {
			t.Fatalf("POST /bare: %d %s", code, body)
		}
		var st struct {
			Functions []struct {
				Upstream  struct{ Name string }
				Functions []struct{ Name string }
				Error     string
			}
		}
		_, body := get(t, "http://"+cp.admin+"/statusz", nil)
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		found := map[string][]string{}
		errs := map[string]string{}
		for _, d := range st.Functions {
			for _, f := range d.Functions {
				found[d.Upstream.Name] = append(found[d.Upstream.Name], f.Name)
			}
			errs[d.Upstream.Name] = d.Error
		}
		if len(found["interop"]) == 0 || strings.Join(found["interop"], " ") != strings.Join(found["bare"], " ") {
			t.Errorf("reflection found %v, the descriptor set %v", found["interop"], found["bare"])
		}
		if !strings.Contains(errs["broken"], "bad descriptor set") {
			t.Errorf("a descriptor that does not parse: error %q", errs["broken"])
		}
		if _, ok := found["web"]; ok {
			t.Errorf("a web server has gRPC functions: %v", found["web"])
		}
	})
	t.Run("a method's google.api.http rule", func(t *testing.T) {
		code, body, _ := send(t, http.MethodGet, base+"/v1/unary/5?responseType=COMPRESSABLE", nil, "")
		var got struct{ Payload struct{ Body []byte } }
		if code != 200 || json.Unmarshal([]byte(body), &got) != nil || len(got.Payload.Body) != 5 {
			t.Fatalf("GET /v1/unary/5: %d %s", code, body)
		}
	})
	t.Run("bad input gets a clear error, other routes keep serving", func(t *testing.T) {
		code, body, _ := send(t, http.MethodPost, base+"/unary/1", nil, `{"responseSize": 3`)
		if code != 400 || !strings.Contains(body, "JSON body is not a grpc.testing.SimpleRequest") {
			t.Errorf("malformed JSON: %d %s", code, body)
		}
		code, body, _ = send(t, http.MethodPost, base+"/nope", nil, `{}`)
		if code == 200 || !strings.Contains(body, "NoSuchMethod") {
			t.Errorf("a method that does not exist: %d %s", code, body)
		}
		_, status := get(t, "http://"+cp.admin+"/statusz", nil)
		if !strings.Contains(status, `gRPC function \"grpc.testing.TestService.NoSuchMethod\" not found`) {
			t.Errorf("/statusz does not name the missing method")
		}
		if code, _, _ := send(t, http.MethodPost, base+"/unary/2", nil, `{}`); code != 200 {
			t.Errorf("the good route after bad requests: %d", code)
		}
	})
}

// interopDescriptorSet is what protoc --include_imports writes for the
// interop server's services.
func interopDescriptorSet(t *testing.T) []byte {
	t.Helper()
	set, err := fdsgrpc.IncludeImports(testgrpc.File_grpc_testing_test_proto, healthpb.File_grpc_health_v1_health_proto,
		annotations.File_google_api_annotations_proto)
	if err != nil {
		t.Fatal(err)
	}
	// The set annotates UnaryCall with an HTTP rule, as a service's proto
	// file may: routes that name no function follow it.
	for _, f := range set.File {
		for _, svc := range f.Service {
			for _, m := range svc.Method {
				if svc.GetName() == "TestService" && m.GetName() == "UnaryCall" {
					m.Options = &descriptorpb.MethodOptions{}
					proto.SetExtension(m.Options, annotations.E_Http, &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/unary/{response_size}"}})
				}
			}
		}
	}
	raw, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
