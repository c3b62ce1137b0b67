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

// Discovered is what function discovery found on an upstream, for its status.
type Discovered struct {
	Functions int32
	Source    string
}

// StatusWriter writes reports into the status of the resources they are
// about, and only when the status changed.
type StatusWriter struct {
	Client client.Client
	// Reader is where current objects are read; the cache, normally.
	Reader client.Reader
}

// Write updates the status of every Gluon resource that has a report.
func (w *StatusWriter) Write(ctx context.Context, reports []api.Report, discovered map[api.ResourceRef]Discovered) error {
	var errs []error
	for _, r := range reports {
		obj, ok := NewObject(r.Key.Kind)
		if !ok {
			continue
		}
		key := client.ObjectKey{Namespace: r.Key.Namespace, Name: r.Key.Name}
		d := discovered[api.ResourceRef{Namespace: key.Namespace, Name: key.Name}]
		// Most statuses are unchanged: compare on the cached object
		// uncopied (setStatus only replaces fields of this shallow copy).
		err := w.Reader.Get(ctx, key, obj, client.UnsafeDisableDeepCopy)
		if apierrors.IsNotFound(err) {
			continue // deleted since the snapshot
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", r.Key, err))
			continue
		}
		if !setStatus(obj, r, d) {
			continue
		}
		if err := w.writeOne(ctx, key, r, d); err != nil {
			errs = append(errs, fmt.Errorf("writing status of %s: %w", r.Key, err))
		}
	}
	return errors.Join(errs...)
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
	}
	return nil, false
}

func (w *StatusWriter) writeOne(ctx context.Context, key client.ObjectKey, r api.Report, d Discovered) error {
	obj, _ := NewObject(r.Key.Kind)
	if err := w.Reader.Get(ctx, key, obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	orig := obj.DeepCopyObject().(client.Object)
	if !setStatus(obj, r, d) {
		return nil
	}
	err := w.Client.Status().Patch(ctx, obj, client.MergeFrom(orig))
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// setStatus puts the report into obj's status and tells whether that
// changed anything.
func setStatus(obj client.Object, r api.Report, d Discovered) bool {
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

// resourceStatus is Gloo's state/reason/reportedBy plus an Accepted
// condition whose transition time survives unchanged verdicts.
func resourceStatus(prev *api.ResourceStatus, r api.Report, generation int64) api.ResourceStatus {
	st := api.ResourceStatus{State: r.State, Reason: strings.Join(r.Reasons, "; "), ReportedBy: ReportedBy, ObservedGeneration: generation}
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
