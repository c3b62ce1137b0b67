package kubesource

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gluon-gateway/gluon/api"
)

// ConditionAccepted is the condition every Gluon resource's status carries.
const ConditionAccepted = "Accepted"

// ReportedBy names Gluon in the statuses it writes.
const ReportedBy = "gluon"

// StatusWriter writes reports into the status of the resources they are
// about, and only when the status changed.
type StatusWriter struct {
	Client client.Client
	// Reader is where current objects are read; the cache, normally.
	Reader client.Reader
}

// Write updates the status of every Gluon resource that has a report.
func (w *StatusWriter) Write(ctx context.Context, reports []api.Report, discovered map[api.ResourceRef]api.FunctionCount) error {
	var errs []error
	for _, r := range reports {
		if _, ok := NewObject(r.Key.Kind); !ok {
			continue
		}
		d := discovered[api.ResourceRef{Namespace: r.Key.Namespace, Name: r.Key.Name}]
		newObj := func() client.Object { o, _ := NewObject(r.Key.Kind); return o }
		key := client.ObjectKey{Namespace: r.Key.Namespace, Name: r.Key.Name}
		errs = append(errs, w.patchStatus(ctx, key, newObj, func(o client.Object) bool { return setStatus(o, r, d) }))
	}
	return errors.Join(errs...)
}

// patchStatus lets set put the wanted status into the object at key, and
// patches it when set says that changed something. Most statuses are
// unchanged, so set runs first on the cached object uncopied; it must
// therefore only replace fields of the object, never change what they
// point to. Only a change is worth a copy and a second read.
func (w *StatusWriter) patchStatus(ctx context.Context, key client.ObjectKey, newObj func() client.Object, set func(client.Object) bool) error {
	obj := newObj()
	if err := w.Reader.Get(ctx, key, obj, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			return nil // deleted since the snapshot
		}
		return fmt.Errorf("reading %T %s: %w", obj, key, err)
	}
	if !set(obj) {
		return nil
	}
	obj = newObj()
	if err := w.Reader.Get(ctx, key, obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	orig := obj.DeepCopyObject().(client.Object)
	if !set(obj) {
		return nil
	}
	if err := w.Client.Status().Patch(ctx, obj, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("writing status of %T %s: %w", obj, key, err)
	}
	return nil
}

// NewObject returns an empty object of a Gluon CRD kind; not ok for other
// kinds (secrets are Kubernetes Secrets).
func NewObject(k api.Kind) (client.Object, bool) {
	switch k {
	case api.KindUpstream:
		return &api.Upstream{}, true
	case api.KindVirtualService:
		return &api.VirtualService{}, true
	case api.KindGateway:
		return &api.Gateway{}, true
	case api.KindSettings:
		return &api.Settings{}, true
	case api.KindRouteOption:
		return &api.RouteOption{}, true
	}
	return nil, false
}

// setStatus puts the report into obj's status and tells whether that
// changed anything.
func setStatus(obj client.Object, r api.Report, d api.FunctionCount) bool {
	switch o := obj.(type) {
	case *api.Upstream:
		next := &api.UpstreamStatus{ResourceStatus: resourceStatus(o.Status.GetResourceStatus(), r, o.Generation),
			Type: o.TypeName(), Functions: d.Functions, FunctionSource: d.Source}
		return replace(&o.Status, next)
	case *api.VirtualService:
		return replace(&o.Status, ptr(resourceStatus(o.Status, r, o.Generation)))
	case *api.Gateway:
		return replace(&o.Status, ptr(resourceStatus(o.Status, r, o.Generation)))
	case *api.Settings:
		return replace(&o.Status, ptr(resourceStatus(o.Status, r, o.Generation)))
	case *api.RouteOption:
		return replace(&o.Status, ptr(resourceStatus(o.Status, r, o.Generation)))
	}
	return false
}

func ptr[T any](v T) *T { return &v }

func replace[T any](cur **T, next *T) bool {
	if *cur != nil && equality.Semantic.DeepEqual(*cur, next) {
		return false
	}
	*cur = next
	return true
}

// replaceValue sets *cur to next and tells whether that changed it.
func replaceValue[T any](cur *T, next T) bool {
	if equality.Semantic.DeepEqual(*cur, next) {
		return false
	}
	*cur = next
	return true
}

// resourceStatus is Gloo's state/reason/reportedBy plus an Accepted
// condition whose transition time survives unchanged verdicts.
func resourceStatus(prev *api.ResourceStatus, r api.Report, generation int64) api.ResourceStatus {
	st := api.ResourceStatus{State: r.State, Reason: strings.Join(r.Reasons(), "; "), Problems: r.Problems, ReportedBy: ReportedBy, ObservedGeneration: generation}
	if prev != nil {
		st.Conditions = append([]metav1.Condition(nil), prev.Conditions...)
	}
	cond := metav1.Condition{Type: ConditionAccepted, Status: metav1.ConditionTrue, Reason: string(r.State),
		Message: st.Reason, ObservedGeneration: generation}
	if r.State == api.Rejected {
		cond.Status = metav1.ConditionFalse
	}
	if cond.Message == "" {
		cond.Message = "translated and served"
	}
	meta.SetStatusCondition(&st.Conditions, cond)
	return st
}
