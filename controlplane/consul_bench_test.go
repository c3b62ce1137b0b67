package controlplane

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/filesource"
	udsconsul "github.com/gluon-gateway/gluon/uds/consul"
	"github.com/gluon-gateway/gluon/xds/server"
)

// BenchmarkConsulHealthChange is the control plane's share of a health
// change in Consul: 1,000 services served, one instance of one service
// leaves and comes back, and the proxy's snapshot follows. A route leads
// to each service, as in bench/consul.sh.
func BenchmarkConsulHealthChange(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := New(server.New("", log), log)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gw := &api.Gateway{Spec: api.GatewaySpec{BindAddress: "127.0.0.1", BindPort: 18080}}
	gw.Name, gw.Namespace = "http", "default"
	vs := &api.VirtualService{}
	vs.Name, vs.Namespace = "all", "default"
	services := make([]api.ConsulService, 1000)
	for i := range services {
		name := fmt.Sprintf("svc-%04d", i)
		vs.Spec.VirtualHost.Routes = append(vs.Spec.VirtualHost.Routes, api.Route{Matchers: []api.Matcher{{Prefix: "/" + name}},
			RouteAction: &api.RouteAction{Single: &api.Destination{Upstream: &api.ResourceRef{Name: "consul-" + name}}}})
		services[i] = api.ConsulService{Datacenter: "dc1", Name: fmt.Sprintf("svc-%04d", i), Instances: []api.ConsulInstance{
			{Address: "10.0.0.1", Port: uint32(10000 + i)}, {Address: "10.0.0.2", Port: uint32(10000 + i)}}}
	}
	p.Apply(ctx, filesource.Snapshot{Resources: api.Resources{Gateways: []*api.Gateway{gw}, VirtualServices: []*api.VirtualService{vs},
		Settings: &api.Settings{Spec: api.SettingsSpec{Discovery: &api.DiscoverySettings{FdsMode: api.FDSDisabled}}}}}, nil)
	opts := udsconsul.UpstreamOptions{Namespace: "default"}
	p.SetConsulServices(ctx, opts, services)
	b.ResetTimer()
	for i := range b.N {
		changed := append([]api.ConsulService(nil), services...)
		if i%2 == 0 {
			s := changed[500]
			s.Instances = s.Instances[:1]
			changed[500] = s
		}
		p.SetConsulServices(ctx, opts, changed)
	}
}
