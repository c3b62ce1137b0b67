package gateway

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/xds/ir/golden"
	"github.com/gluon-gateway/gluon/xds/translator"
)

// TestGolden runs stage 1 on resources and, as a check that stage 1 only
// builds IR that stage 2 accepts, stage 2 on each proxy.
// catalog is what discovery found in the golden cases' world.
var catalog = functions.Snapshot{
	{Namespace: "default", Name: "petstore"}: {
		Upstream: functions.UpstreamRef{Namespace: "default", Name: "petstore"},
		Functions: []functions.Function{
			{Name: "addPet", Kind: functions.KindREST, REST: &functions.RESTFunction{Method: "POST", Path: "/api/pets", BodyContentType: "application/json",
				Parameters: []functions.Parameter{{Name: "age", In: functions.InBody, Type: "integer"}, {Name: "name", In: functions.InBody, Required: true, Type: "string"}}}},
			{Name: "findPetById", Kind: functions.KindREST, REST: &functions.RESTFunction{Method: "GET", Path: "/api/pets/{id}",
				Parameters: []functions.Parameter{{Name: "id", In: functions.InPath, Required: true, Type: "integer"}}}},
			{Name: "findPets", Kind: functions.KindREST, REST: &functions.RESTFunction{Method: "GET", Path: "/api/pets",
				Parameters: []functions.Parameter{{Name: "limit", In: functions.InQuery, Type: "integer"}, {Name: "x-trace", In: functions.InHeader}}}},
		},
	},
	{Namespace: "default", Name: "broken"}: {Upstream: functions.UpstreamRef{Namespace: "default", Name: "broken"}, Error: "GET http://127.0.0.1:9/swagger.json: document too large"},
	{Namespace: "default", Name: "aws-eu"}: {
		Upstream: functions.UpstreamRef{Namespace: "default", Name: "aws-eu"},
		Functions: []functions.Function{
			{Name: "hello", Kind: functions.KindLambda, Lambda: &functions.LambdaFunction{FunctionName: "hello"}},
			{Name: "hello:prod", Kind: functions.KindLambda, Lambda: &functions.LambdaFunction{FunctionName: "hello", Qualifier: "prod"}},
		},
	},
	{Namespace: "default", Name: "shop-app"}: {
		Upstream: functions.UpstreamRef{Namespace: "default", Name: "shop-app"},
		Functions: []functions.Function{
			{Name: "hello", Kind: functions.KindAzure, Azure: &functions.AzureFunction{FunctionName: "hello", Route: "hello", AuthLevel: "function", Methods: []string{"GET"}}},
			{Name: "status", Kind: functions.KindAzure, Azure: &functions.AzureFunction{FunctionName: "status", Route: "status", AuthLevel: "anonymous"}},
		},
		AzureKeys: &functions.AzureKeys{Function: map[string]string{"hello": "discovered-hello-key"}, Host: "discovered-host-key", Master: "discovered-master-key"},
	},
	{Namespace: "default", Name: "aws-local"}: {
		Upstream:  functions.UpstreamRef{Namespace: "default", Name: "aws-local"},
		Functions: []functions.Function{{Name: "echo:2", Kind: functions.KindLambda, Lambda: &functions.LambdaFunction{FunctionName: "echo", Qualifier: "2", ARN: "arn:aws:lambda:us-east-1:123456789012:function:echo:2"}}},
	},
	{Namespace: "default", Name: "greeter"}: greeterDiscovered(),
	{Namespace: "default", Name: "aws-role"}: {
		Upstream:  functions.UpstreamRef{Namespace: "default", Name: "aws-role"},
		Functions: []functions.Function{{Name: "reports", Kind: functions.KindLambda, Lambda: &functions.LambdaFunction{FunctionName: "reports"}}},
	},
}

func TestGolden(t *testing.T) {
	golden.Run(t, func(t *testing.T, in []byte) any {
		if isGatewayAPICase(t) {
			return gatewayAPIGolden(t, in)
		}
		var res api.Resources
		var decodeErrors []string
		for _, d := range api.DecodeAll(in) {
			if d.Err != nil {
				decodeErrors = append(decodeErrors, d.Err.Error())
				continue
			}
			res.Add(d.Object)
		}
		res.Sort()
		out := Translate(res, catalog, Options{RateLimitAddress: "127.0.0.1", RateLimitPort: 9978})
		for _, p := range out.Proxies {
			if _, err := translator.Translate(p); err != nil {
				t.Errorf("stage 2 refused stage 1's proxy: %v", err)
			}
		}
		return map[string]any{"decodeErrors": decodeErrors, "proxies": out.Proxies, "reports": out.Reports.List()}
	})
}

// TestDiscoverySkippedIsReported: parts of a document discovery skipped
// show on the Upstream as a warning, the first few named.
func TestDiscoverySkippedIsReported(t *testing.T) {
	u := &api.Upstream{Spec: api.UpstreamSpec{Static: &api.StaticUpstream{Hosts: []api.Host{{Addr: "127.0.0.1", Port: 9000}}}}}
	u.Name, u.Namespace = "docs", "default"
	ref := functions.UpstreamRef{Namespace: "default", Name: "docs"}
	var skipped []string
	for i := range 7 {
		skipped = append(skipped, fmt.Sprintf(`paths["/p%d"]: unresolvable`, i))
	}
	out := Translate(api.Resources{Upstreams: []*api.Upstream{u}}, functions.Snapshot{ref: {Upstream: ref, Skipped: skipped}}, Options{})
	r := out.Reports[api.KeyOf(u)]
	if r == nil || r.State != api.Warning || len(r.Problems) != 1 || r.Problems[0].Code != api.DiscoveryIncomplete ||
		!strings.Contains(r.Problems[0].Message, `skipped 7 part(s)`) || !strings.Contains(r.Problems[0].Message, `paths["/p4"]`) ||
		strings.Contains(r.Problems[0].Message, `paths["/p5"]`) || !strings.HasSuffix(r.Problems[0].Message, "and 2 more") {
		t.Fatalf("report %+v", r)
	}
}
