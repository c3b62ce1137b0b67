package translator

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/xds/ir"
	"github.com/gluon-gateway/gluon/xds/ir/golden"
	"github.com/gluon-gateway/gluon/xds/server"
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
	for _, s := range r.Secrets {
		add("secrets", s)
	}
	for _, p := range r.Problems {
		out["problems"] = append(out["problems"], map[string]any{"origin": p.Origin, "error": p.Err.Error()})
	}
	return out
}

// TestDeterministic translates one proxy with transformation, Lambda and
// Azure routes (whose golang filter configs are TypedStructs, with maps)
// 1,000 times: every run gives the same bytes and the same versions.
func TestDeterministic(t *testing.T) {
	p := functionsProxy(t)
	first, firstVersions := marshalAll(t, p)
	for range 1000 {
		got, versions := marshalAll(t, p)
		if string(got) != string(first) {
			t.Fatal("translation is not byte-identical across runs")
		}
		if !maps.Equal(versions, firstVersions) {
			t.Fatalf("versions %v, then %v", firstVersions, versions)
		}
	}
}

// functionsProxy joins the transformation, Lambda and Azure golden inputs
// into one proxy, each on a listener of its own.
func functionsProxy(t *testing.T) *ir.Proxy {
	joined := &ir.Proxy{Name: "functions", AWSCredentials: map[string]ir.AWSCredentials{}, AzureKeys: map[string]ir.AzureAppKeys{}, AzureAAD: map[string]ir.AzureAAD{}}
	for i, name := range []string{"transformation", "lambda", "azure"} {
		raw, err := os.ReadFile("testdata/" + name + ".in.yaml")
		if err != nil {
			t.Fatal(err)
		}
		var p ir.Proxy
		if err := yaml.UnmarshalStrict(raw, &p); err != nil {
			t.Fatal(err)
		}
		for _, l := range p.Listeners {
			l.Name, l.Port = name+"-"+l.Name, 8080+uint32(i)
			joined.Listeners = append(joined.Listeners, l)
		}
		joined.Clusters = append(joined.Clusters, p.Clusters...)
		joined.AllowedEnv = append(joined.AllowedEnv, p.AllowedEnv...)
		maps.Copy(joined.AWSCredentials, p.AWSCredentials)
		maps.Copy(joined.AzureKeys, p.AzureKeys)
		maps.Copy(joined.AzureAAD, p.AzureAAD)
	}
	return joined
}

// marshalAll translates p and returns its resources' bytes and the
// version the xDS server gives each type.
func marshalAll(t *testing.T, p *ir.Proxy) ([]byte, map[string]string) {
	res, err := Translate(p)
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	versions := map[string]string{}
	for typ, rs := range res.ByType() {
		v, err := server.ContentVersion(typ, rs)
		if err != nil {
			t.Fatal(err)
		}
		versions[typ] = v
	}
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
	return all, versions
}

// TestBadPartsAreLeftOut: a route or cluster stage 2 cannot build, or that
// Envoy would reject, used to fail the whole proxy, with the error reaching
// no resource. Now each is left out and reported at its origin.
func TestBadPartsAreLeftOut(t *testing.T) {
	origin := func(kind, name, field string) ir.Origin {
		return ir.Origin{Kind: kind, Namespace: "default", Name: name, Field: field}
	}
	fwd := func(cluster string) *ir.Forward {
		return &ir.Forward{Destinations: []ir.Destination{{Cluster: cluster, Weight: 1}}}
	}
	p := &ir.Proxy{Name: "p",
		Clusters: []*ir.Cluster{
			{Name: "good", Discovery: ir.DiscoveryEDS, ConnectTimeout: ir.Duration(time.Second), Origin: origin("Upstream", "good", "spec")},
			{Name: "empty", Discovery: ir.DiscoveryStatic, ConnectTimeout: ir.Duration(time.Second), Origin: origin("Upstream", "empty", "spec")},
		},
		Listeners: []*ir.Listener{{Name: "l", Address: "127.0.0.1", Port: 1, VirtualHosts: []*ir.VirtualHost{{Name: "v", Domains: []string{"*"}, Routes: []*ir.Route{
			{Name: "to-missing", Match: ir.Match{PathPrefix: "/m"}, Forward: fwd("missing"), Origin: origin("VirtualService", "vs", "spec.virtualHost.routes[0].matchers[0]")},
			{Name: "bad-header", Match: ir.Match{PathPrefix: "/h"}, Forward: fwd("good"), Origin: origin("VirtualService", "vs", "spec.virtualHost.routes[1].matchers[0]"),
				Headers: &ir.HeaderMutation{AddRequest: []ir.HeaderValue{{Name: "x-a", Value: "line\nbreak"}}}},
			{Name: "to-empty", Match: ir.Match{PathPrefix: "/e"}, Forward: fwd("empty"), Origin: origin("VirtualService", "vs", "spec.virtualHost.routes[2].matchers[0]")},
			{Name: "fine", Match: ir.Match{PathPrefix: "/"}, Forward: fwd("good"), Origin: origin("VirtualService", "vs", "spec.virtualHost.routes[3].matchers[0]")},
		}}}}},
	}
	res, err := Translate(p)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, pr := range res.Problems {
		left = append(left, pr.Origin.Name+" "+pr.Origin.Field)
	}
	want := []string{"empty spec", "vs spec.virtualHost.routes[0].matchers[0]", "vs spec.virtualHost.routes[1].matchers[0]", "vs spec.virtualHost.routes[2].matchers[0]"}
	if !slices.Equal(left, want) {
		t.Errorf("left out %q, want %q", left, want)
	}
	if len(res.Clusters) != 1 || len(res.Listeners) != 1 || len(res.Routes[0].VirtualHosts[0].Routes) != 1 || res.Routes[0].VirtualHosts[0].Routes[0].Name != "fine" {
		t.Errorf("served %d clusters, %d listeners, routes %v", len(res.Clusters), len(res.Listeners), res.Routes[0].VirtualHosts[0].Routes)
	}

	p.Listeners = append(p.Listeners, p.Listeners[0])
	if _, err := Translate(p); err == nil {
		t.Fatal("want an error for duplicate listener names")
	}
}
