package controlplane

import (
	"context"
	"io"
	"log/slog"
	"testing"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/filesource"
	udsconsul "github.com/gluon-gateway/gluon/uds/consul"
	"github.com/gluon-gateway/gluon/xds/server"
)

// TestConsulInstanceChangePatchesEndpointsOnly: when Consul's instances
// change but not its services, the endpoints are patched into the served
// snapshot; the result is byte for byte what a full translation serves,
// and the other types keep their versions.
func TestConsulInstanceChangePatchesEndpointsOnly(t *testing.T) {
	gw := &api.Gateway{Spec: api.GatewaySpec{BindAddress: "127.0.0.1", BindPort: 18080}}
	gw.Name, gw.Namespace = "http", "default"
	vs := &api.VirtualService{}
	vs.Name, vs.Namespace = "web", "default"
	vs.Spec.VirtualHost.Routes = []api.Route{{Matchers: []api.Matcher{{Prefix: "/"}},
		RouteAction: &api.RouteAction{Single: &api.Destination{Upstream: &api.ResourceRef{Name: "consul-web"}}}}}
	config := filesource.Snapshot{Resources: api.Resources{Gateways: []*api.Gateway{gw}, VirtualServices: []*api.VirtualService{vs},
		Settings: &api.Settings{Spec: api.SettingsSpec{Discovery: &api.DiscoverySettings{FdsMode: api.FDSDisabled}}}}}
	web := func(ips ...string) []api.ConsulService {
		s := api.ConsulService{Datacenter: "dc1", Name: "web"}
		for _, ip := range ips {
			s.Instances = append(s.Instances, api.ConsulInstance{Address: ip, Port: 8080})
		}
		return []api.ConsulService{s}
	}
	opts := udsconsul.UpstreamOptions{Namespace: "default"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pipeline := func() *Pipeline {
		p := New(server.New("", log), log)
		p.Apply(ctx, config, nil)
		return p
	}

	patched := pipeline()
	patched.SetConsulServices(ctx, opts, web("10.0.0.1", "10.0.0.2"))
	before := patched.Snapshots()[0]
	patched.SetConsulServices(ctx, opts, web("10.0.0.1"))
	after := patched.Snapshots()[0]
	if after.Versions[resourcev3.EndpointType] == before.Versions[resourcev3.EndpointType] {
		t.Fatal("the endpoints' version did not change with the instances")
	}
	for _, typ := range []string{resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.RouteType} {
		if after.Versions[typ] != before.Versions[typ] {
			t.Errorf("%s changed with the instances alone", typ)
		}
	}

	full := pipeline()
	full.SetConsulServices(ctx, opts, web("10.0.0.1"))
	if want := full.Snapshots()[0].Version; after.Version != want {
		t.Fatalf("patched snapshot version %s, a full translation serves %s", after.Version, want)
	}
}
