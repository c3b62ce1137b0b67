package translator

import (
	"encoding/json"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/xds/ir"
	"github.com/gluon-gateway/gluon/xds/ir/golden"
)

func TestGolden(t *testing.T) {
	golden.Run(t, func(t *testing.T, in []byte) any {
		var p ir.Proxy
		if err := yaml.UnmarshalStrict(in, &p); err != nil {
			t.Fatal(err)
		}
		res, err := Translate(&p)
		if err != nil {
			return map[string]string{"error": err.Error()}
		}
		return render(t, res)
	})
}

// render turns resources into plain data for YAML, via protojson.
func render(t *testing.T, r *Resources) map[string][]any {
	out := map[string][]any{}
	add := func(kind string, m proto.Message) {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		out[kind] = append(out[kind], v)
	}
	for _, l := range r.Listeners {
		add("listeners", l)
	}
	for _, rc := range r.Routes {
		add("routes", rc)
	}
	for _, c := range r.Clusters {
		add("clusters", c)
	}
	for _, e := range r.Endpoints {
		add("endpoints", e)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	p := &ir.Proxy{Name: "p", Clusters: []*ir.Cluster{{Name: "a", Discovery: ir.DiscoveryEDS, ConnectTimeout: ir.Duration(time.Second), Endpoints: []ir.Endpoint{{Host: "127.0.0.1", Port: 1, Weight: 1}}}},
		Listeners: []*ir.Listener{{Name: "l", Address: "127.0.0.1", Port: 8080, VirtualHosts: []*ir.VirtualHost{{Name: "v", Domains: []string{"*"},
			Routes: []*ir.Route{{Name: "r", Match: ir.Match{PathPrefix: "/"}, Forward: &ir.Forward{Destinations: []ir.Destination{{Cluster: "a", Weight: 1}}}}}}}}}}
	first := marshalAll(t, p)
	for range 20 {
		if got := marshalAll(t, p); string(got) != string(first) {
			t.Fatal("translation is not byte-identical across runs")
		}
	}
}

func marshalAll(t *testing.T, p *ir.Proxy) []byte {
	res, err := Translate(p)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	byType := res.ByType()
	for _, typ := range []string{resourcev3.ListenerType, resourcev3.RouteType, resourcev3.ClusterType, resourcev3.EndpointType} {
		for _, r := range byType[typ] {
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
	}
	return all
}

func TestInvalidIRIsRefused(t *testing.T) {
	p := &ir.Proxy{Name: "p", Listeners: []*ir.Listener{{Name: "l", Address: "127.0.0.1", Port: 1, VirtualHosts: []*ir.VirtualHost{{Name: "v", Domains: []string{"*"},
		Routes: []*ir.Route{{Name: "r", Match: ir.Match{PathPrefix: "/"}, Forward: &ir.Forward{Destinations: []ir.Destination{{Cluster: "missing", Weight: 1}}}}}}}}}}
	if _, err := Translate(p); err == nil {
		t.Fatal("want an error for a route to an unknown cluster")
	}
}
