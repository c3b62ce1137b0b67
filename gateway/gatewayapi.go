package gateway

// Kubernetes Gateway API support. Gateway API objects are not translated
// on their own: they are converted into Gluon's resources (an api.Gateway
// per listener port, an api.VirtualService per port and hostname, a kube
// api.Upstream per Service backend) which the rest of stage 1 translates
// like any other. Only the status is the Gateway API's own.

import (
	"slices"

	"k8s.io/apimachinery/pkg/types"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// GeneratedFromLabel marks the Gluon resources stage 1 generates from
// Gateway API objects; its value is the kind they come from ("gateway",
// "httproute"). They exist only inside stage 1: they have no reports of
// their own, their problems show in the Gateway API objects' status.
const GeneratedFromLabel = "gluon.dev/generated-from"

// The values of GeneratedFromLabel.
const (
	generatedFromGateway   = "gateway"
	generatedFromHTTPRoute = "httproute"
)

// GatewayAPIProxyName is the proxy that serves a Gateway API Gateway; a data
// plane or Envoy asks for it by node cluster.
func GatewayAPIProxyName(gw types.NamespacedName) string { return gw.Namespace + "-" + gw.Name }

// gatewayAPI is one conversion of the Gateway API objects of a resource set.
type gatewayAPI struct {
	in            *api.GatewayAPI
	bindAddress   string
	services      map[types.NamespacedName]*api.ServiceEndpoints
	userUpstreams map[api.ResourceRef]*api.Upstream
	// routeOptions are what ExtensionRef filters may name; secrets are
	// what their API key label selectors choose from.
	routeOptions map[api.ResourceRef]*api.RouteOption
	secrets      []*api.Secret
	// jwksFailures are remote JWKS the control plane could not fetch.
	jwksFailures map[string]string
	// classes are the GatewayClasses Gluon serves, by name.
	classes  map[string]*gwv1.GatewayClass
	gateways []*servedGateway // by namespace/name
	routes   []*routeState    // in precedence order
	gen      generated
}

// generated holds the Gluon resources of a conversion and, for each, what
// it came from, to map its reports back.
type generated struct {
	upstreams       map[api.ResourceRef]*api.Upstream
	upstreamUsers   map[api.ResourceRef][]*routeState
	virtualServices []*api.VirtualService
	vsOrigins       map[api.ResourceRef][]matchOrigin
	gateways        []*api.Gateway
	gatewayPorts    map[api.ResourceRef]servedPort
	// jwtProviders are the RouteOptions' JWT providers the generated
	// routes require, by "namespace/routeoption/provider".
	jwtProviders map[string]api.JWTProvider
}

// servedPort is one listener port of a served Gateway.
type servedPort struct {
	gateway *servedGateway
	port    gwv1.PortNumber
}

// convertGatewayAPI converts the Gateway API objects of res. Without a
// Gateway of Gluon's classes it does no more than find that out: most
// resource sets have none.
func convertGatewayAPI(res *api.Resources, bindAddress string, jwksFailures map[string]string) *gatewayAPI {
	if bindAddress == "" {
		bindAddress = defaultBindAddress
	}
	c := &gatewayAPI{in: &res.GatewayAPI, classes: map[string]*gwv1.GatewayClass{}, bindAddress: bindAddress, jwksFailures: jwksFailures}
	c.acceptClasses()
	c.acceptGateways()
	if len(c.gateways) == 0 {
		return c
	}
	secrets := map[types.NamespacedName]*api.Secret{}
	for _, s := range res.Secrets {
		secrets[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = s
	}
	for _, g := range c.gateways {
		c.resolveCertificates(g, secrets)
	}
	c.index(res)
	c.attachRoutes()
	c.generate()
	return c
}

// index makes the lookups conversion needs.
func (c *gatewayAPI) index(res *api.Resources) {
	c.services = map[types.NamespacedName]*api.ServiceEndpoints{}
	for i := range res.ServiceEndpoints {
		s := &res.ServiceEndpoints[i]
		c.services[types.NamespacedName{Namespace: s.Namespace, Name: s.Service}] = s
	}
	c.userUpstreams = map[api.ResourceRef]*api.Upstream{}
	for _, u := range res.Upstreams {
		c.userUpstreams[api.ResourceRef{Name: u.Name, Namespace: u.Namespace}] = u
	}
	c.routeOptions = map[api.ResourceRef]*api.RouteOption{}
	for _, ro := range res.RouteOptions {
		c.routeOptions[api.ResourceRef{Name: ro.Name, Namespace: ro.Namespace}] = ro
	}
	c.secrets = res.Secrets
	c.gen = generated{
		upstreams:     map[api.ResourceRef]*api.Upstream{},
		upstreamUsers: map[api.ResourceRef][]*routeState{},
		vsOrigins:     map[api.ResourceRef][]matchOrigin{},
		gatewayPorts:  map[api.ResourceRef]servedPort{},
		jwtProviders:  map[string]api.JWTProvider{},
	}
}

// withGenerated returns res with the generated resources added, in new
// slices: the caller's resources stay as they were.
func (c *gatewayAPI) withGenerated(res api.Resources) api.Resources {
	if len(c.gen.gateways) == 0 {
		return res
	}
	upstreams := make([]*api.Upstream, 0, len(c.gen.upstreams))
	for _, u := range c.gen.upstreams {
		upstreams = append(upstreams, u)
	}
	res.Upstreams = slices.Concat(res.Upstreams, upstreams)
	res.VirtualServices = slices.Concat(res.VirtualServices, c.gen.virtualServices)
	res.Gateways = slices.Concat(res.Gateways, c.gen.gateways)
	// Generated resources take their place among the user's.
	api.SortByKey(res.Upstreams)
	api.SortByKey(res.VirtualServices)
	api.SortByKey(res.Gateways)
	return res
}

func generatedLabels(from string) map[string]string {
	return map[string]string{GeneratedFromLabel: from}
}

// isGenerated reports whether stage 1 generated a resource from a Gateway
// API object.
func isGenerated(labels map[string]string) bool { return labels[GeneratedFromLabel] != "" }
