package main

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3" // the bootstrap's typed options
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir/golden"
)

// goldenCase is one testdata input: resources as a config dir holds them and
// the control plane's /statusz.
type goldenCase struct {
	Resources string    `json:"resources"`
	Status    statusDoc `json:"status"`
}

// TestGolden renders every table and YAML output of gluonctl from the case.
func TestGolden(t *testing.T) {
	golden.Run(t, func(t *testing.T, in []byte) any {
		var c goldenCase
		if err := yaml.UnmarshalStrict(in, &c); err != nil {
			t.Fatal(err)
		}
		var res api.Resources
		for _, d := range api.DecodeAll([]byte(c.Resources)) {
			if d.Err != nil {
				t.Fatal(d.Err)
			}
			res.Add(d.Object)
		}
		res.Sort()
		out := map[string]string{}
		tables := map[string]*table{
			"upstreams":       upstreamsTable(res.Upstreams, &c.Status),
			"functions":       functionsTable(c.Status.Functions),
			"virtualservices": virtualServicesTable(res.VirtualServices, &c.Status),
			"proxies":         proxiesTable(&c.Status),
			"secrets":         secretsTable(secretRows(res.Secrets)),
		}
		for _, vs := range res.VirtualServices {
			tables["routes "+vs.Name] = routesTable(vs.Spec.VirtualHost.Routes)
		}
		for name, tb := range tables {
			out["table "+name] = render(t, "table", nil, tb)
		}
		out["yaml upstreams"] = render(t, "yaml", res.Upstreams, nil)
		out["yaml secrets"] = render(t, "yaml", secretRows(res.Secrets), nil)
		out["json virtualservices"] = render(t, "json", res.VirtualServices, nil)
		var check bytes.Buffer
		writeCheck(&check, &c.Status)
		out["check"] = check.String()
		if u, err := proxyURL(res, api.DefaultProxyName); err == nil {
			out["proxy url"] = u
		}
		for _, vs := range res.VirtualServices {
			raw, err := marshal(vs)
			if err != nil {
				t.Fatal(err)
			}
			out["dry-run "+vs.Name] = string(raw)
		}
		return out
	})
}

func render(t *testing.T, format string, v any, tb *table) string {
	var b bytes.Buffer
	o := &options{output: format, out: &b}
	var write func(io.Writer) error
	if tb != nil {
		write = tb.write
	}
	if err := o.render(v, write); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestBootstrapIsValidEnvoyConfig parses the bootstrap as Envoy would and
// runs its generated validation.
func TestBootstrapIsValidEnvoyConfig(t *testing.T) {
	raw, err := envoyBootstrap("edge", "envoy-1", "10.0.0.7:9977")
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatal(err)
	}
	if b.GetNode().GetCluster() != "edge" || b.GetNode().GetMetadata().GetFields()["role"].GetStringValue() != "edge" {
		t.Fatalf("node %v", b.GetNode())
	}
	if sc := b.GetStatsConfig(); !sc.GetUseAllDefaultTags().GetValue() || len(sc.GetHistogramBucketSettings()) != 1 ||
		len(sc.GetHistogramBucketSettings()[0].GetBuckets()) != len(envoyRequestTimeBuckets) {
		t.Fatalf("stats_config %v", sc)
	}
	var again map[string]any
	if err := json.Unmarshal(js, &again); err != nil {
		t.Fatal(err)
	}
}

func TestSortRoutes(t *testing.T) {
	routes := []api.Route{
		{Name: "p1", Matchers: []api.Matcher{{Prefix: "/"}}},
		{Name: "re", Matchers: []api.Matcher{{Regex: "/a.*"}}},
		{Name: "p2", Matchers: []api.Matcher{{Prefix: "/api/v1"}}},
		{Name: "ex", Matchers: []api.Matcher{{Exact: "/api"}}},
	}
	sortRoutes(routes)
	var got []string
	for _, r := range routes {
		got = append(got, r.Name)
	}
	if want := "ex re p2 p1"; joined(got) != want {
		t.Fatalf("got %s, want %s", joined(got), want)
	}
}

func joined(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
