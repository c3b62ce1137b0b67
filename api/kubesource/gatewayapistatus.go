package kubesource

import (
	"context"
	"errors"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// WriteGatewayAPI writes the statuses that changed. Conditions keep their
// transition time while their status holds; an HTTPRoute's parent entries
// written by other controllers are left alone.
func (w *StatusWriter) WriteGatewayAPI(ctx context.Context, st api.GatewayAPIStatus) error {
	var errs []error
	for name, want := range st.GatewayClasses {
		newObj := func() client.Object { return &gwv1.GatewayClass{} }
		errs = append(errs, w.patchStatus(ctx, types.NamespacedName{Name: name}, newObj, func(o client.Object) bool {
			gc := o.(*gwv1.GatewayClass)
			return replaceValue(&gc.Status.Conditions, mergeConditions(gc.Status.Conditions, want.Conditions))
		}))
	}
	for key, want := range st.Gateways {
		newObj := func() client.Object { return &gwv1.Gateway{} }
		errs = append(errs, w.patchStatus(ctx, key, newObj, func(o client.Object) bool {
			g := o.(*gwv1.Gateway)
			return replaceValue(&g.Status, gatewayStatus(g.Status, want))
		}))
	}
	for _, kind := range []struct {
		routes map[types.NamespacedName][]gwv1.RouteParentStatus
		newObj func() client.Object
		status func(client.Object) *gwv1.RouteStatus
	}{
		{st.HTTPRoutes, func() client.Object { return &gwv1.HTTPRoute{} }, func(o client.Object) *gwv1.RouteStatus { return &o.(*gwv1.HTTPRoute).Status.RouteStatus }},
		{st.GRPCRoutes, func() client.Object { return &gwv1.GRPCRoute{} }, func(o client.Object) *gwv1.RouteStatus { return &o.(*gwv1.GRPCRoute).Status.RouteStatus }},
		{st.TLSRoutes, func() client.Object { return &gwv1.TLSRoute{} }, func(o client.Object) *gwv1.RouteStatus { return &o.(*gwv1.TLSRoute).Status.RouteStatus }},
		{st.TCPRoutes, func() client.Object { return &gwv1.TCPRoute{} }, func(o client.Object) *gwv1.RouteStatus { return &o.(*gwv1.TCPRoute).Status.RouteStatus }},
	} {
		for key, want := range kind.routes {
			errs = append(errs, w.patchStatus(ctx, key, kind.newObj, func(o client.Object) bool {
				rs := kind.status(o)
				return replaceValue(&rs.Parents, routeParents(rs.Parents, want))
			}))
		}
	}
	return errors.Join(errs...)
}

// mergeConditions returns want's conditions, keeping the transition time
// of those whose status did not change.
func mergeConditions(cur, want []metav1.Condition) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(want))
	for _, c := range want {
		if prev := meta.FindStatusCondition(cur, c.Type); prev != nil && prev.Status == c.Status {
			c.LastTransitionTime = prev.LastTransitionTime
		}
		if c.LastTransitionTime.IsZero() {
			c.LastTransitionTime = metav1.Now()
		}
		out = append(out, c)
	}
	return out
}

func gatewayStatus(cur, want gwv1.GatewayStatus) gwv1.GatewayStatus {
	want.Conditions = mergeConditions(cur.Conditions, want.Conditions)
	listeners := make([]gwv1.ListenerStatus, len(want.Listeners))
	for i, l := range want.Listeners {
		var prev []metav1.Condition // none for a new listener
		for _, c := range cur.Listeners {
			if c.Name == l.Name {
				prev = c.Conditions
			}
		}
		l.Conditions = mergeConditions(prev, l.Conditions)
		listeners[i] = l
	}
	want.Listeners = listeners
	return want
}

func routeParents(cur, want []gwv1.RouteParentStatus) []gwv1.RouteParentStatus {
	var out []gwv1.RouteParentStatus
	for _, p := range cur {
		if p.ControllerName != api.GatewayControllerName {
			out = append(out, p)
		}
	}
	for _, p := range want {
		var prev []metav1.Condition
		for _, c := range cur {
			if c.ControllerName == api.GatewayControllerName && equality.Semantic.DeepEqual(c.ParentRef, p.ParentRef) {
				prev = c.Conditions
			}
		}
		p.Conditions = mergeConditions(prev, p.Conditions)
		out = append(out, p)
	}
	return out
}
