package gateway

import (
	"reflect"
	"testing"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

func TestKubeUpstreamTakesEndpointsOfItsServicePort(t *testing.T) {
	u := &api.Upstream{Spec: api.UpstreamSpec{Kube: &api.KubeUpstream{ServiceName: "pets", ServiceNamespace: "shop", ServicePort: 80}}}
	u.Name, u.Namespace = "shop-pets-80", "gluon-system"
	res := api.Resources{Upstreams: []*api.Upstream{u}, ServiceEndpoints: []api.ServiceEndpoints{
		{Namespace: "default", Service: "pets", Ports: []api.ServicePort{{Port: 80, Endpoints: []api.EndpointAddress{{IP: "10.0.0.9", Port: 1}}}}},
		{Namespace: "shop", Service: "pets", Ports: []api.ServicePort{
			{Port: 80, Name: "http", Endpoints: []api.EndpointAddress{{IP: "10.0.0.1", Port: 8080}, {IP: "10.0.0.2", Port: 8080}}},
			{Port: 9090, Name: "metrics", Endpoints: []api.EndpointAddress{{IP: "10.0.0.1", Port: 9090}}},
		}},
	}}
	res.Sort()
	c := upstreamCluster(u, &res)
	want := []ir.Endpoint{{Host: "10.0.0.1", Port: 8080, Weight: 1}, {Host: "10.0.0.2", Port: 8080, Weight: 1}}
	if c.Discovery != ir.DiscoveryEDS || !reflect.DeepEqual(c.Endpoints, want) {
		t.Fatalf("cluster %+v", c)
	}
	u.Spec.Kube.ServiceName = "gone"
	if c := upstreamCluster(u, &res); len(c.Endpoints) != 0 {
		t.Fatalf("a Service without endpoints got %+v", c.Endpoints)
	}
}
