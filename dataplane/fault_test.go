package dataplane

import (
	"net/http/httptest"
	"testing"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	commonfaultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

func faultyRoute(t testing.TB, prefix string, f *faultv3.HTTPFault) *routev3.Route {
	r := prefixRoute(prefix, "b")
	r.TypedPerFilterConfig = map[string]*anypb.Any{wellknown.Fault: mustAny(t, f)}
	return r
}

func share(perMillion uint32) *typev3.FractionalPercent {
	return &typev3.FractionalPercent{Numerator: perMillion, Denominator: typev3.FractionalPercent_MILLION}
}

// TestFaults: aborts answer the status with Envoy's body, none at 0%, and
// a delay holds the request before it goes on.
func TestFaults(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	abort := func(status, perMillion uint32) *faultv3.FaultAbort {
		return &faultv3.FaultAbort{ErrorType: &faultv3.FaultAbort_HttpStatus{HttpStatus: status}, Percentage: share(perMillion)}
	}
	rc := routeConfig("rc", vhost("all", []string{"*"},
		faultyRoute(t, "/abort", &faultv3.HTTPFault{Abort: abort(503, 1_000_000)}),
		faultyRoute(t, "/never", &faultv3.HTTPFault{Abort: abort(503, 0)}),
		faultyRoute(t, "/delay", &faultv3.HTTPFault{Delay: &commonfaultv3.FaultDelay{
			FaultDelaySecifier: &commonfaultv3.FaultDelay_FixedDelay{FixedDelay: durationpb.New(150 * time.Millisecond)}}}),
		prefixRoute("/", "b")))
	r := e.basic(rc, map[string]*httptest.Server{"b": b})
	fault := &hcmv3.HttpFilter{Name: wellknown.Fault, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &faultv3.HTTPFault{})}}
	r.listeners = []types.Resource{httpListener(t, "http", e.port, "rc", fault, routerFilter(t))}
	e.push(r)

	if resp, body := e.fetch("/abort", nil); resp.StatusCode != 503 || body != faultAbortBody {
		t.Errorf("abort: %d %q", resp.StatusCode, body)
	}
	if resp, _ := e.fetch("/never", nil); resp.StatusCode != 200 {
		t.Errorf("0%% abort: %d", resp.StatusCode)
	}
	start := time.Now()
	if resp, _ := e.fetch("/delay", nil); resp.StatusCode != 200 || time.Since(start) < 150*time.Millisecond {
		t.Errorf("delay: %d after %s", resp.StatusCode, time.Since(start))
	}
}

func TestFaultRefusals(t *testing.T) {
	for name, f := range map[string]*faultv3.HTTPFault{
		"grpc status":   {Abort: &faultv3.FaultAbort{ErrorType: &faultv3.FaultAbort_GrpcStatus{GrpcStatus: 14}}},
		"header delay":  {Delay: &commonfaultv3.FaultDelay{FaultDelaySecifier: &commonfaultv3.FaultDelay_HeaderDelay_{HeaderDelay: &commonfaultv3.FaultDelay_HeaderDelay{}}}},
		"headers match": {UpstreamCluster: "x"},
	} {
		if _, err := compileFault(mustAny(t, f)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
