package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
	"github.com/gluon-gateway/gluon/xds/translator"
)

// isGatewayAPICase reports whether a golden case (testdata/gatewayapi-*)
// holds Gateway API documents, which api.DecodeAll does not read.
func isGatewayAPICase(t *testing.T) bool {
	return strings.HasPrefix(path.Base(t.Name()), "gatewayapi-")
}

// gatewayAPIGolden runs stage 1 on a Gateway API case and, as TestGolden
// does, stage 2 on every proxy.
func gatewayAPIGolden(t *testing.T, in []byte) any {
	res, decodeErrors := decodeGatewayAPI(in)
	res.Sort()
	out := Translate(res, catalog, Options{RateLimitAddress: "127.0.0.1", RateLimitPort: 9978})
	for _, p := range out.Proxies {
		if _, err := translator.Translate(p); err != nil {
			t.Errorf("stage 2 refused stage 1's proxy %s: %v", p.Name, err)
		}
	}
	return map[string]any{"decodeErrors": decodeErrors, "proxies": out.Proxies, "reports": out.Reports.List(), "gatewayAPI": viewOf(out.GatewayAPI)}
}

// statusView is api.GatewayAPIStatus keyed by "namespace/name", as YAML can
// write it.
type statusView struct {
	GatewayClasses map[string]gwv1.GatewayClassStatus  `json:"gatewayClasses,omitempty"`
	Gateways       map[string]gwv1.GatewayStatus       `json:"gateways,omitempty"`
	HTTPRoutes     map[string][]gwv1.RouteParentStatus `json:"httpRoutes,omitempty"`
	GRPCRoutes     map[string][]gwv1.RouteParentStatus `json:"grpcRoutes,omitempty"`
	TLSRoutes      map[string][]gwv1.RouteParentStatus `json:"tlsRoutes,omitempty"`
	TCPRoutes      map[string][]gwv1.RouteParentStatus `json:"tcpRoutes,omitempty"`
}

func viewOf(s api.GatewayAPIStatus) statusView {
	v := statusView{GatewayClasses: s.GatewayClasses, Gateways: map[string]gwv1.GatewayStatus{}}
	for k, g := range s.Gateways {
		v.Gateways[k.String()] = g
	}
	byName := func(in map[types.NamespacedName][]gwv1.RouteParentStatus) map[string][]gwv1.RouteParentStatus {
		out := map[string][]gwv1.RouteParentStatus{}
		for k, r := range in {
			out[k.String()] = r
		}
		return out
	}
	v.HTTPRoutes, v.TLSRoutes, v.TCPRoutes = byName(s.HTTPRoutes), byName(s.TLSRoutes), byName(s.TCPRoutes)
	v.GRPCRoutes = byName(s.GRPCRoutes)
	return v
}

// serviceFixture is a test-only document standing for a Service and its
// EndpointSlices, as the Kubernetes source joins them.
type serviceFixture struct {
	metav1.TypeMeta      `json:",inline"`
	api.ServiceEndpoints `json:",inline"`
}

// decodeGatewayAPI reads Gateway API documents, Namespaces (for their
// labels), serviceFixtures and Gluon documents.
func decodeGatewayAPI(in []byte) (api.Resources, []string) {
	var res api.Resources
	var decodeErrors []string
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(in)))
	for {
		raw, err := r.Read()
		if errors.Is(err, io.EOF) {
			return res, decodeErrors
		}
		if err == nil {
			err = addDocument(&res, raw)
		}
		if err != nil {
			decodeErrors = append(decodeErrors, err.Error())
		}
	}
}

func addDocument(res *api.Resources, raw []byte) error {
	var head metav1.PartialObjectMetadata
	if err := yaml.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("not YAML: %w", err)
	}
	gw := &res.GatewayAPI
	switch head.APIVersion + " " + head.Kind {
	case " ":
		return nil // an empty document
	case "gateway.networking.k8s.io/v1 GatewayClass":
		return decodeInto(raw, &gw.GatewayClasses)
	case "gateway.networking.k8s.io/v1 Gateway":
		return decodeInto(raw, &gw.Gateways)
	case "gateway.networking.k8s.io/v1 HTTPRoute":
		return decodeInto(raw, &gw.HTTPRoutes)
	case "gateway.networking.k8s.io/v1 GRPCRoute":
		return decodeInto(raw, &gw.GRPCRoutes)
	case "gateway.networking.k8s.io/v1 TLSRoute":
		return decodeInto(raw, &gw.TLSRoutes)
	case "gateway.networking.k8s.io/v1 TCPRoute":
		return decodeInto(raw, &gw.TCPRoutes)
	case "gateway.networking.k8s.io/v1beta1 ReferenceGrant":
		return decodeInto(raw, &gw.ReferenceGrants)
	case "v1 Namespace":
		if gw.NamespaceLabels == nil {
			gw.NamespaceLabels = map[string]map[string]string{}
		}
		gw.NamespaceLabels[head.Name] = head.Labels
		return nil
	case "test.gluon.dev/v1 ServiceEndpoints":
		var s serviceFixture
		if err := yaml.UnmarshalStrict(raw, &s); err != nil {
			return err
		}
		res.ServiceEndpoints = append(res.ServiceEndpoints, s.ServiceEndpoints)
		return nil
	}
	d := api.Decode(raw)
	if d.Err != nil {
		return d.Err
	}
	res.Add(d.Object)
	return nil
}

// decodeInto decodes a Gateway API object, in the default namespace when
// it names none, as the API server would.
func decodeInto[T any, P interface {
	*T
	metav1.Object
}](raw []byte, list *[]P) error {
	obj := P(new(T))
	if err := yaml.UnmarshalStrict(raw, obj); err != nil {
		return err
	}
	if obj.GetNamespace() == "" {
		obj.SetNamespace(api.DefaultNamespace)
	}
	*list = append(*list, obj)
	return nil
}

// TestRouteOptionJWKSUnreachable: a RouteOption whose JWKS the control
// plane could not fetch fails its rule (500, the HTTPRoute says why); the
// hostname's other rules keep their policies and serve.
func TestRouteOptionJWKSUnreachable(t *testing.T) {
	in, err := os.ReadFile("testdata/gatewayapi-routeoption.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, _ := decodeGatewayAPI(in)
	res.Sort()
	out := Translate(res, catalog, Options{JWKSFailures: map[string]string{"http://idp.shop/jwks.json": "answered 503"}})
	status := out.GatewayAPI.HTTPRoutes[types.NamespacedName{Namespace: "shop", Name: "shop"}]
	if len(status) != 1 || !strings.Contains(status[0].Conditions[0].Message, "rule 1: RouteOption shop/jwt: jwt provider idp: JWKS http://idp.shop/jwks.json answered 503") {
		t.Fatalf("status %+v", status)
	}
	routes := map[string]*ir.Route{}
	for _, p := range out.Proxies {
		for _, l := range p.Listeners {
			for _, vh := range l.VirtualHosts {
				for _, r := range vh.Routes {
					routes[r.Name] = r
				}
			}
		}
	}
	if r := routes["shop_shop-rule-1-match-0-matcher-0"]; r == nil || r.DirectResponse == nil || r.DirectResponse.Status != 500 {
		t.Errorf("the rule with the unreachable JWKS: %+v", r)
	}
	if r := routes["shop_shop-rule-0-match-0-matcher-0"]; r == nil || r.APIKeyAuth == nil || len(r.Forward.Destinations) != 1 {
		t.Errorf("the API key rule: %+v", r)
	}
}
