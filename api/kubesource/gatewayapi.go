package kubesource

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/gluon-gateway/gluon/api"
)

func gatewayAPIObjects(streamRoutes, grpcRoutes bool) []client.Object {
	objs := []client.Object{&gwv1.GatewayClass{}, &gwv1.Gateway{}, &gwv1.HTTPRoute{}, &gwv1beta1.ReferenceGrant{}}
	if streamRoutes {
		objs = append(objs, &gwv1.TLSRoute{}, &gwv1.TCPRoute{})
	}
	if grpcRoutes {
		objs = append(objs, &gwv1.GRPCRoute{})
	}
	return objs
}

// loadGatewayAPI reads the Gateway API objects and namespace labels (for
// listeners' allowedRoutes selectors).
func (s *Source) loadGatewayAPI(ctx context.Context, out *api.GatewayAPI) error {
	var nss corev1.NamespaceList
	if err := list(ctx, s.cache, &nss); err != nil {
		return err
	}
	out.NamespaceLabels = map[string]map[string]string{}
	for _, ns := range nss.Items {
		out.NamespaceLabels[ns.Name] = ns.Labels
	}
	if !s.gatewayAPI {
		return nil
	}
	var classes gwv1.GatewayClassList
	var gateways gwv1.GatewayList
	var routes gwv1.HTTPRouteList
	var grants gwv1beta1.ReferenceGrantList
	if err := list(ctx, s.cache, &classes, &gateways, &routes, &grants); err != nil {
		return err
	}
	if s.streamRoutes {
		var tlsRoutes gwv1.TLSRouteList
		var tcpRoutes gwv1.TCPRouteList
		if err := list(ctx, s.cache, &tlsRoutes, &tcpRoutes); err != nil {
			return err
		}
		for i := range tlsRoutes.Items {
			out.TLSRoutes = append(out.TLSRoutes, &tlsRoutes.Items[i])
		}
		for i := range tcpRoutes.Items {
			out.TCPRoutes = append(out.TCPRoutes, &tcpRoutes.Items[i])
		}
	}
	if s.grpcRoutes {
		var grpcRoutes gwv1.GRPCRouteList
		if err := list(ctx, s.cache, &grpcRoutes); err != nil {
			return err
		}
		for i := range grpcRoutes.Items {
			out.GRPCRoutes = append(out.GRPCRoutes, &grpcRoutes.Items[i])
		}
	}
	for i := range classes.Items {
		out.GatewayClasses = append(out.GatewayClasses, &classes.Items[i])
	}
	for i := range gateways.Items {
		out.Gateways = append(out.Gateways, &gateways.Items[i])
	}
	for i := range routes.Items {
		out.HTTPRoutes = append(out.HTTPRoutes, &routes.Items[i])
	}
	for i := range grants.Items {
		out.ReferenceGrants = append(out.ReferenceGrants, &grants.Items[i])
	}
	return nil
}
