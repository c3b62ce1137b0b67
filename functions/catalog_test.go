package functions

import (
	"errors"
	"testing"
)

func TestCatalogNotifiesOnChangeOnly(t *testing.T) {
	c := NewCatalog()
	w := c.Watch()
	ref := UpstreamRef{Namespace: "default", Name: "petstore"}
	d := Discovered{Upstream: ref, Functions: []Function{{Name: "findPetById", Kind: KindREST, REST: &RESTFunction{Method: "GET", Path: "/pets/{id}"}}}}
	c.Set(d)
	<-w
	c.Set(d)
	select {
	case <-w:
		t.Fatal("notified for an unchanged entry")
	default:
	}
	c.SetError(ref, errors.New("document too large"))
	<-w
	got := c.Snapshot()[ref]
	if got.Error != "document too large" || len(got.Functions) != 1 {
		t.Fatalf("after error: %+v (functions found before must stay)", got)
	}
	if f, ok := got.Find("findPetById"); !ok || f.REST.Path != "/pets/{id}" {
		t.Fatal("Find")
	}
	c.Delete(ref)
	<-w
	if len(c.Snapshot().List()) != 0 {
		t.Fatal("not deleted")
	}
}

func TestCatalogReplaceHoldsExactlyTheGivenEntries(t *testing.T) {
	c := NewCatalog()
	w := c.Watch()
	a := Discovered{Upstream: UpstreamRef{Namespace: "default", Name: "a"}, Source: "doc-a"}
	b := Discovered{Upstream: UpstreamRef{Namespace: "default", Name: "b"}, Source: "doc-b"}
	c.Set(a)
	<-w
	c.Replace(Snapshot{b.Upstream: b})
	<-w
	got := c.Snapshot()
	if len(got) != 1 || got[b.Upstream].Source != "doc-b" {
		t.Fatalf("after replace: %+v, want only b", got)
	}
	c.Replace(Snapshot{b.Upstream: b})
	select {
	case <-w:
		t.Fatal("notified for an unchanged catalog")
	default:
	}
}
