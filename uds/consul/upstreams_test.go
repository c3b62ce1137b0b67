package consul

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gluon-gateway/gluon/api"
)

func TestUpstreamsAndEndpoints(t *testing.T) {
	services := []api.ConsulService{ // sorted by name, then datacenter
		{Datacenter: "dc1", Name: "Web_API", Instances: []api.ConsulInstance{{Address: "10.0.0.2", Port: 80, Tags: []string{"v2"}}, {Address: "10.0.0.1", Port: 80}}},
		{Datacenter: "dc2", Name: "Web_API", Instances: []api.ConsulInstance{{Address: "10.1.0.1", Port: 80, Tags: []string{"v2"}}}},
		{Datacenter: "dc1", Name: "consul", Instances: []api.ConsulInstance{{Address: "10.0.0.9", Port: 8300}}},
		{Datacenter: "dc1", Name: "db", Instances: nil},
	}
	ups := Upstreams(services, UpstreamOptions{Namespace: "gluon"})
	if len(ups) != 2 || ups[0].Name != "consul-db" || ups[1].Name != "consul-web-api" || ups[1].Namespace != "gluon" ||
		ups[1].Spec.Consul.ServiceName != "Web_API" || ups[1].Labels[api.DiscoveredLabel] != "consul" {
		t.Fatalf("upstreams: %+v", ups)
	}
	for _, u := range ups {
		if err := u.Validate(); err != nil {
			t.Errorf("%s does not validate: %v", u.Name, err)
		}
	}
	res := &api.Resources{ConsulServices: services}
	cases := []struct {
		spec api.ConsulUpstream
		want string
	}{
		{api.ConsulUpstream{ServiceName: "Web_API"}, "10.0.0.1 10.0.0.2 10.1.0.1"},
		{api.ConsulUpstream{ServiceName: "Web_API", DataCenters: []string{"dc1"}}, "10.0.0.1 10.0.0.2"},
		{api.ConsulUpstream{ServiceName: "Web_API", ServiceTags: []string{"v2"}}, "10.0.0.2 10.1.0.1"},
		{api.ConsulUpstream{ServiceName: "db"}, ""},
	}
	for _, c := range cases {
		got := ""
		for _, e := range res.ConsulEndpoints(&c.spec) {
			got += " " + e.IP
		}
		if len(got) > 0 {
			got = got[1:]
		}
		if got != c.want {
			t.Errorf("%+v: %q, want %q", c.spec, got, c.want)
		}
	}
}

func TestUpstreamsPerTagSet(t *testing.T) {
	services := []api.ConsulService{
		{Datacenter: "dc1", Name: "web", Instances: []api.ConsulInstance{
			{Address: "10.0.0.1", Port: 80, Tags: []string{"v2", "blue"}},
			{Address: "10.0.0.2", Port: 80, Tags: []string{"blue", "v2", "blue"}},
			{Address: "10.0.0.3", Port: 80, Tags: []string{"green"}},
			{Address: "10.0.0.4", Port: 80}}},
	}
	got := map[string]string{}
	for _, u := range Upstreams(services, UpstreamOptions{Namespace: "gluon", PerTagSet: true}) {
		got[u.Name] = strings.Join(u.Spec.Consul.ServiceTags, ",")
		if err := u.Validate(); err != nil {
			t.Errorf("%s does not validate: %v", u.Name, err)
		}
	}
	want := map[string]string{"consul-web": "", "consul-web-blue-v2": "blue,v2", "consul-web-green": "green"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("upstreams per tag set: %v, want %v", got, want)
	}
	if n := len(Upstreams(services, UpstreamOptions{Namespace: "gluon"})); n != 1 {
		t.Fatalf("without PerTagSet: %d upstreams, want 1", n)
	}
}
