package dataplane

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	luav3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestNACKKeepsServing(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	good := e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "b"))), map[string]*httptest.Server{"b": b})
	e.push(good)

	lua := &hcmv3.HttpFilter{Name: "envoy.filters.http.lua", ConfigType: &hcmv3.HttpFilter_TypedConfig{
		TypedConfig: mustAny(t, &luav3.Lua{DefaultSourceCode: &core.DataSource{Specifier: &core.DataSource_InlineString{InlineString: "-- noop"}}}),
	}}
	badListener := good
	badListener.listeners = []types.Resource{httpListener(t, "http", e.port, "rc", lua, routerFilter(t))}

	badRoute := good
	rt := prefixRoute("/", "b")
	rt.GetRoute().ClusterNotFoundResponseCode = routev3.RouteAction_NOT_FOUND
	rt.GetRoute().HostRewriteSpecifier = &routev3.RouteAction_HostRewriteHeader{HostRewriteHeader: "x-host"}
	badRoute.routes = []types.Resource{routeConfig("rc", vhost("all", []string{"*"}, rt))}

	badCluster := good
	lc := edsCluster("b")
	lc.LbPolicy = clusterv3.Cluster_CLUSTER_PROVIDED
	badCluster.clusters = []types.Resource{lc}

	occupied, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer occupied.Close()
	badBind := good
	badBind.listeners = append([]types.Resource{}, good.listeners...)
	badBind.listeners = append(badBind.listeners, httpListener(t, "taken", occupied.Addr().(*net.TCPAddr).Port, "rc"))

	cases := []struct {
		name     string
		res      resources
		typeURL  string
		contains []string
	}{
		{"unknown http filter", badListener, resourcev3.ListenerType, []string{`listener "http"`, `"envoy.filters.http.lua"`, "not supported"}},
		{"unsupported route field", badRoute, resourcev3.RouteType, []string{`route configuration "rc"`, "host_rewrite_header"}},
		{"unsupported lb policy", badCluster, resourcev3.ClusterType, []string{`cluster "b"`, "CLUSTER_PROVIDED"}},
		{"bind failure", badBind, resourcev3.ListenerType, []string{"binding", "address already in use"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(e.cp.nackList())
			accepted := e.dp.Status().Versions[c.typeURL]
			e.version++
			v := fmt.Sprintf("v%d", e.version)
			e.cp.set(t, v, c.res)
			var nack string
			waitFor(t, "NACK", func() bool {
				for _, req := range e.cp.nackList()[before:] {
					if req.GetTypeUrl() == c.typeURL {
						if req.GetVersionInfo() != accepted {
							t.Errorf("NACK version_info %q, want last accepted %q", req.GetVersionInfo(), accepted)
						}
						nack = req.GetErrorDetail().GetMessage()
						return true
					}
				}
				return false
			})
			for _, s := range c.contains {
				if !strings.Contains(nack, s) {
					t.Errorf("NACK %q does not mention %q", nack, s)
				}
			}
			if st := e.dp.Status(); st.LastNACK == nil || st.LastNACK.TypeURL != c.typeURL || st.LastNACK.Version != v {
				t.Errorf("Status().LastNACK = %+v", st.LastNACK)
			}
			e.call("GET", "", "/", nil, http.StatusOK) // the previous config keeps serving
			// go-control-plane re-sends a rejected version at once; the data
			// plane must not spin.
			n := len(e.cp.nackList())
			time.Sleep(500 * time.Millisecond)
			if extra := len(e.cp.nackList()) - n; extra > 6 {
				t.Errorf("%d NACKs in 500ms: NACK loop not throttled", extra)
			}
		})
	}

	// A good config afterwards is applied and clears the NACK.
	fixed := good
	fixed.routes = []types.Resource{routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "b"), prefixRoute("/never", "b")))}
	e.push(fixed)
	if st := e.dp.Status(); st.LastNACK != nil {
		t.Errorf("LastNACK not cleared: %+v", st.LastNACK)
	}
}

// TestConfigSwapUnderLoad changes weights, headers and cluster definitions
// while clients hammer the data plane: no request may fail.
func TestConfigSwapUnderLoad(t *testing.T) {
	e := newEnv(t)
	a, b := backend(t, "a"), backend(t, "b")
	snapshot := func(i int) resources {
		rt := &routev3.Route{
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: weighted("a", 1+i%10, "b", 10-i%10)}},
			ResponseHeadersToAdd: []*core.HeaderValueOption{
				headerOption("x-config", itoa(i), core.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD),
			},
		}
		r := e.basic(routeConfig("rc", vhost("all", []string{"*"}, rt)), map[string]*httptest.Server{"a": a, "b": b})
		for j, c := range r.clusters {
			c := c.(*clusterv3.Cluster)
			if c.GetName() == "a" { // every 10 versions a changes definition: new pool
				c.ConnectTimeout = durationpb.New(time.Second + time.Duration(i/10)*time.Millisecond)
			}
			r.clusters[j] = c
		}
		return r
	}
	e.push(snapshot(0))

	const clients = 20
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := e.client.Get("http://127.0.0.1:" + itoa(e.port) + "/load")
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					ok.Add(1)
				}
			}
		})
	}
	for i := 1; i <= 50; i++ {
		e.push(snapshot(i))
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || ok.Load() < 500 {
		t.Fatalf("%d ok, %d failed (first: %v)", ok.Load(), failed.Load(), firstErr.Load())
	}
	t.Logf("%d requests across 50 config changes, none failed", ok.Load())
}

func TestControlPlaneRestart(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	e.push(e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/one", "b"))), map[string]*httptest.Server{"b": b}))
	addr := e.cp.addr

	e.cp.grpc.Stop()
	waitFor(t, "disconnect", func() bool { return !e.dp.Status().Connected })
	for range 5 {
		e.call("GET", "", "/one", nil, http.StatusOK)
		time.Sleep(50 * time.Millisecond)
	}

	e.cp = startCP(t, addr)
	next := e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/one", "b"), prefixRoute("/two", "b"))), map[string]*httptest.Server{"b": b})
	e.push(next)
	e.call("GET", "", "/two", nil, http.StatusOK)
	if !e.dp.Status().Connected {
		t.Error("not connected after reconnect")
	}
}

// TestClusterRemovalUnderLoad removes a cluster and the route to it in one
// snapshot while clients use that route: they see 200 then 404, never 503.
func TestClusterRemovalUnderLoad(t *testing.T) {
	e := newEnv(t)
	a, b := backend(t, "a"), backend(t, "b")
	backends := map[string]*httptest.Server{"a": a, "b": b}
	withB := e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/b", "b"), prefixRoute("/", "a"))), backends)
	withoutB := e.basic(routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/", "a"))), map[string]*httptest.Server{"a": a})
	withoutB.routes = []types.Resource{routeConfig("rc", vhost("all", []string{"*"}, prefixRoute("/a", "a")))}
	for round := range 10 {
		e.push(withB)
		var bad atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					resp, err := e.client.Get("http://127.0.0.1:" + itoa(e.port) + "/b")
					if err != nil {
						bad.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 && resp.StatusCode != 404 {
						bad.Add(1)
					}
				}
			})
		}
		time.Sleep(20 * time.Millisecond)
		e.push(withoutB)
		time.Sleep(20 * time.Millisecond)
		close(stop)
		wg.Wait()
		if bad.Load() > 0 {
			t.Fatalf("round %d: %d requests failed during cluster removal", round, bad.Load())
		}
	}
}
