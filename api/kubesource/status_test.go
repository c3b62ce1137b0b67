package kubesource_test

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource"
)

func TestStatusIsWrittenOnlyWhenItChanges(t *testing.T) {
	c, ca := clients(t)
	ctx := context.Background()
	namespace(t, c, "status")
	create(t, c, vs("status", "shop", "/"))
	w := &kubesource.StatusWriter{Client: c, Reader: c}
	key := api.Key{Kind: api.KindVirtualService, Namespace: "status", Name: "shop"}
	rejected := []api.Report{{Key: key, State: api.Rejected, Problems: []api.Problem{{Code: api.InvalidField, Path: "spec.x", Message: "wrong"}}}}
	if err := w.Write(ctx, rejected, nil); err != nil {
		t.Fatal(err)
	}
	var got api.VirtualService
	if err := c.Get(ctx, client.ObjectKey{Namespace: "status", Name: "shop"}, &got); err != nil {
		t.Fatal(err)
	}
	st := got.Status
	if st == nil || st.State != api.Rejected || st.Reason != "InvalidField: spec.x: wrong" || len(st.Problems) != 1 || st.Problems[0].Path != "spec.x" || st.ReportedBy != "gluon" || st.ObservedGeneration != got.Generation {
		t.Fatalf("status %+v", st)
	}
	cond := meta.FindStatusCondition(st.Conditions, kubesource.ConditionAccepted)
	if cond == nil || cond.Status != "False" || cond.Reason != "Rejected" || cond.Message != "InvalidField: spec.x: wrong" {
		t.Fatalf("condition %+v", cond)
	}
	version := got.ResourceVersion
	if err := w.Write(ctx, rejected, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "status", Name: "shop"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != version {
		t.Errorf("an unchanged status was written again (%s → %s)", version, got.ResourceVersion)
	}
	accepted := []api.Report{{Key: key, State: api.Accepted}}
	if err := w.Write(ctx, accepted, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "accepted", func() error {
		if err := c.Get(ctx, client.ObjectKey{Namespace: "status", Name: "shop"}, &got); err != nil {
			return err
		}
		if c := meta.FindStatusCondition(got.Status.Conditions, kubesource.ConditionAccepted); got.Status.State != api.Accepted || c.Status != "True" {
			return fmt.Errorf("status %+v", got.Status)
		}
		return nil
	})
	_ = ca
}

func TestUpstreamStatusCarriesDiscoveredFunctions(t *testing.T) {
	c, _ := clients(t)
	ctx := context.Background()
	namespace(t, c, "ustatus")
	u := &api.Upstream{Spec: api.UpstreamSpec{Kube: &api.KubeUpstream{ServiceName: "pets", ServiceNamespace: "ustatus", ServicePort: 80}}}
	u.Name, u.Namespace = "pets", "ustatus"
	create(t, c, u)
	w := &kubesource.StatusWriter{Client: c, Reader: c}
	reports := []api.Report{{Key: api.Key{Kind: api.KindUpstream, Namespace: "ustatus", Name: "pets"}, State: api.Accepted}}
	found := map[api.ResourceRef]api.FunctionCount{{Namespace: "ustatus", Name: "pets"}: {Functions: 3, Source: "http://10.0.0.1/openapi.json"}}
	if err := w.Write(ctx, reports, found); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(u), u); err != nil {
		t.Fatal(err)
	}
	if s := u.Status; s == nil || s.Type != "kube" || s.Functions != 3 || s.FunctionSource != "http://10.0.0.1/openapi.json" || s.State != api.Accepted {
		t.Fatalf("status %+v", s)
	}
}
