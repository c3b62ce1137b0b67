package dataplane

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	rlconfv3 "github.com/envoyproxy/go-control-plane/envoy/config/ratelimit/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	ratelimitcommon "github.com/envoyproxy/go-control-plane/envoy/extensions/common/ratelimit/v3"
	localrlv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
	ratelimitv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Builders for the rate-limit filters as Gluon's translator emits them.

func localRateLimitHTTPFilter(t testing.TB) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: localRateLimitName, ConfigType: &hcmv3.HttpFilter_TypedConfig{
		TypedConfig: mustAny(t, &localrlv3.LocalRateLimit{StatPrefix: "http_local_rate_limiter"}),
	}}
}

func hundredPercent(key string) *core.RuntimeFractionalPercent {
	return &core.RuntimeFractionalPercent{RuntimeKey: key, DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
}

// localLimit is a per-route LocalRateLimit with a bucket.
func localLimit(maxTokens, perFill uint32, interval time.Duration) *localrlv3.LocalRateLimit {
	return &localrlv3.LocalRateLimit{
		StatPrefix: "http_local_rate_limiter",
		TokenBucket: &typev3.TokenBucket{
			MaxTokens: maxTokens, TokensPerFill: wrapperspb.UInt32(perFill), FillInterval: durationpb.New(interval),
		},
		FilterEnabled:           hundredPercent("local_rate_limit_enabled"),
		FilterEnforced:          hundredPercent("local_rate_limit_enforced"),
		EnableXRatelimitHeaders: ratelimitcommon.XRateLimitHeadersRFCVersion_DRAFT_VERSION_03,
	}
}

func localPerFilter(t testing.TB, l *localrlv3.LocalRateLimit) map[string]*anypb.Any {
	return map[string]*anypb.Any{localRateLimitName: mustAny(t, l)}
}

func rateLimitHTTPFilter(t testing.TB, cluster string, timeout time.Duration, deny bool) *hcmv3.HttpFilter {
	return &hcmv3.HttpFilter{Name: wellknown.HTTPRateLimit, ConfigType: &hcmv3.HttpFilter_TypedConfig{
		TypedConfig: mustAny(t, &ratelimitv3.RateLimit{
			Domain:          "gluon",
			RequestType:     "both",
			Timeout:         durationpb.New(timeout),
			FailureModeDeny: deny,
			RateLimitService: &rlconfv3.RateLimitServiceConfig{
				GrpcService: &core.GrpcService{TargetSpecifier: &core.GrpcService_EnvoyGrpc_{
					EnvoyGrpc: &core.GrpcService_EnvoyGrpc{ClusterName: cluster},
				}},
				TransportApiVersion: core.ApiVersion_V3,
			},
			EnableXRatelimitHeaders: ratelimitv3.RateLimit_DRAFT_VERSION_03,
		}),
	}}
}

// rlsCluster is the STATIC HTTP/2 cluster Gluon emits for the rate limit service.
func rlsCluster(t testing.TB, name, addr string) *clusterv3.Cluster {
	return withHTTP2(t, &clusterv3.Cluster{
		Name:                 name,
		ConnectTimeout:       durationpb.New(time.Second),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		LbPolicy:             clusterv3.Cluster_ROUND_ROBIN,
		LoadAssignment:       cla(name, addr),
	})
}

func rateLimit(actions ...*routev3.RateLimit_Action) *routev3.RateLimit {
	return &routev3.RateLimit{Actions: actions}
}

func genericKey(key, value string) *routev3.RateLimit_Action {
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_GenericKey_{
		GenericKey: &routev3.RateLimit_Action_GenericKey{DescriptorKey: key, DescriptorValue: value},
	}}
}

func remoteAddress() *routev3.RateLimit_Action {
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RemoteAddress_{
		RemoteAddress: &routev3.RateLimit_Action_RemoteAddress{},
	}}
}

func requestHeader(header, key string, skipIfAbsent bool) *routev3.RateLimit_Action {
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_RequestHeaders_{
		RequestHeaders: &routev3.RateLimit_Action_RequestHeaders{HeaderName: header, DescriptorKey: key, SkipIfAbsent: skipIfAbsent},
	}}
}

func headerValueMatch(value string, expect bool, headers ...*routev3.HeaderMatcher) *routev3.RateLimit_Action {
	return &routev3.RateLimit_Action{ActionSpecifier: &routev3.RateLimit_Action_HeaderValueMatch_{
		HeaderValueMatch: &routev3.RateLimit_Action_HeaderValueMatch{
			DescriptorValue: value, ExpectMatch: wrapperspb.Bool(expect), Headers: headers,
		},
	}}
}

// withRateLimits sets a route's rate_limits.
func withRateLimits(r *routev3.Route, includeVH bool, rls ...*routev3.RateLimit) *routev3.Route {
	r.GetRoute().RateLimits = rls
	if includeVH {
		r.GetRoute().IncludeVhRateLimits = wrapperspb.Bool(true)
	}
	return r
}

// rateLimitResources is e.basic plus the local and global filters (in
// Gluon's order) and the STATIC cluster "rls" reaching rlsAddr.
func (e *env) rateLimitResources(rc *routev3.RouteConfiguration, backends map[string]*httptest.Server, rlsAddr string, timeout time.Duration, deny bool) resources {
	r := e.basic(rc, backends)
	r.listeners = []types.Resource{httpListener(e.t, "http", e.port, rc.Name,
		localRateLimitHTTPFilter(e.t), rateLimitHTTPFilter(e.t, "rls", timeout, deny), routerFilter(e.t))}
	r.clusters = append(r.clusters, rlsCluster(e.t, "rls", rlsAddr))
	return r
}

// fakeRLS is a rate limit service that records requests and answers with
// whatever the test sets.
type fakeRLS struct {
	rlsv3.UnimplementedRateLimitServiceServer
	addr  string
	conns atomic.Int32 // connections accepted

	mu       sync.Mutex
	requests []*rlsv3.RateLimitRequest
	answer   func(*rlsv3.RateLimitRequest) *rlsv3.RateLimitResponse
	delay    time.Duration
	// traceparent is the W3C trace context the last call carried.
	traceparent string
}

func startFakeRLS(t testing.TB) *fakeRLS {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRLS{addr: ln.Addr().String()}
	srv := grpc.NewServer()
	rlsv3.RegisterRateLimitServiceServer(srv, f)
	go func() { _ = srv.Serve(countingListener{ln, &f.conns}) }()
	t.Cleanup(srv.Stop)
	return f
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func (f *fakeRLS) ShouldRateLimit(ctx context.Context, req *rlsv3.RateLimitRequest) (*rlsv3.RateLimitResponse, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get("traceparent")) > 0 {
		f.traceparent = md.Get("traceparent")[0]
	}
	answer, delay := f.answer, f.delay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if answer == nil {
		return &rlsv3.RateLimitResponse{OverallCode: rlsv3.RateLimitResponse_OK}, nil
	}
	return answer(req), nil
}

func (f *fakeRLS) set(answer func(*rlsv3.RateLimitRequest) *rlsv3.RateLimitResponse, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer, f.delay = answer, delay
}

// take returns and forgets the requests received so far.
func (f *fakeRLS) take() []*rlsv3.RateLimitRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}

// descriptorsOf renders a request's descriptors as "k=v,k=v" strings.
func descriptorsOf(req *rlsv3.RateLimitRequest) []string {
	var out []string
	for _, d := range req.GetDescriptors() {
		s := ""
		for i, e := range d.GetEntries() {
			if i > 0 {
				s += ","
			}
			s += e.GetKey() + "=" + e.GetValue()
		}
		out = append(out, s)
	}
	return out
}

func overLimitStatus(limit, remaining uint32, unit rlsv3.RateLimitResponse_RateLimit_Unit, reset time.Duration) *rlsv3.RateLimitResponse_DescriptorStatus {
	return &rlsv3.RateLimitResponse_DescriptorStatus{
		Code:               rlsv3.RateLimitResponse_OVER_LIMIT,
		CurrentLimit:       &rlsv3.RateLimitResponse_RateLimit{RequestsPerUnit: limit, Unit: unit},
		LimitRemaining:     remaining,
		DurationUntilReset: durationpb.New(reset),
	}
}

func okStatus(limit, remaining uint32, unit rlsv3.RateLimitResponse_RateLimit_Unit, reset time.Duration) *rlsv3.RateLimitResponse_DescriptorStatus {
	s := overLimitStatus(limit, remaining, unit, reset)
	s.Code = rlsv3.RateLimitResponse_OK
	return s
}

// fetch sends a GET with headers through the data plane and returns the
// response, its body read.
func (e *env) fetch(path string, hdr http.Header) (*http.Response, string) {
	e.t.Helper()
	resp := e.do("GET", "", path, hdr, nil)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}
