package kubesource_test

import (
	"context"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource"
)

func namespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(context.Background(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

func service(ns, name string, ports ...int32) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for _, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: fmt.Sprintf("p%d", p), Port: p, TargetPort: intstr.FromInt32(p + 8000)})
	}
	return s
}

func slice(ns, svc, name string, port int32, ready map[string]bool) *discoveryv1.EndpointSlice {
	portName := fmt.Sprintf("p%d", port-8000)
	target := port
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &target}},
	}
	for ip, ok := range ready {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ok}})
	}
	return s
}

func vs(ns, name, prefix string) *api.VirtualService {
	v := &api.VirtualService{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	v.Spec.VirtualHost.Routes = []api.Route{{
		Matchers:             []api.Matcher{{Prefix: prefix}},
		DirectResponseAction: &api.DirectResponseAction{Status: 200, Body: name},
	}}
	return v
}

func TestLoadJoinsEndpointsAndKeepsLastGoodVersions(t *testing.T) {
	c, ca := clients(t)
	ctx := context.Background()
	namespace(t, c, "load")
	create(t, c,
		service("load", "pets", 80, 9090),
		slice("load", "pets", "pets-a", 8080, map[string]bool{"10.1.0.2": true, "10.1.0.1": true, "10.1.0.3": false}),
		slice("load", "pets", "pets-b", 8080, map[string]bool{"10.1.0.4": true}),
		service("load", "empty", 80),
		vs("load", "good", "/good"),
		vs("load", "bad", "nope"),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "load", Name: "aws"}, Type: kubesource.SecretTypeAWS,
			Data: map[string][]byte{"aws_access_key_id": []byte("AKID"), "aws_secret_access_key": []byte("secret")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "load", Name: "other"}, Data: map[string][]byte{"x": []byte("y")}},
	)
	state := &memoryState{}
	src, err := kubesource.New(ca, true, state)
	if err != nil {
		t.Fatal(err)
	}
	var snap api.Snapshot
	eventually(t, "snapshot with both services and slices", func() error {
		var err error
		snap, err = src.Load(ctx)
		if err != nil {
			return err
		}
		got := snap.Resources.EndpointsFor("load", "pets", 80)
		if len(got) != 3 || snap.Resources.EndpointsFor("load", "empty", 80) != nil {
			return fmt.Errorf("endpoints %v", got)
		}
		return nil
	})
	want := []api.EndpointAddress{{IP: "10.1.0.1", Port: 8080}, {IP: "10.1.0.2", Port: 8080}, {IP: "10.1.0.4", Port: 8080}}
	if got := snap.Resources.EndpointsFor("load", "pets", 80); !reflect.DeepEqual(got, want) {
		t.Errorf("endpoints of pets:80 = %v, want %v", got, want)
	}
	if got := snap.Resources.EndpointsFor("load", "pets", 9090); len(got) != 0 {
		t.Errorf("port 9090 has no slice port, got %v", got)
	}
	if names := vsNames(snap, "load"); names != "good" {
		t.Errorf("virtual services served: %q", names)
	}
	bad := snap.Reports[api.Key{Kind: api.KindVirtualService, Namespace: "load", Name: "bad"}]
	if bad == nil || bad.State != api.Rejected || !strings.Contains(strings.Join(bad.Reasons(), ";"), "must start with /") {
		t.Errorf("bad virtual service report: %+v", bad)
	}
	if n := secretsIn(snap, "load"); n != 1 {
		t.Errorf("want only the aws secret, got %d", n)
	}

	// A good resource made bad keeps serving its last good version.
	var good api.VirtualService
	if err := c.Get(ctx, client.ObjectKey{Namespace: "load", Name: "good"}, &good); err != nil {
		t.Fatal(err)
	}
	good.Spec.VirtualHost.Routes[0].Matchers[0].Prefix = "broken"
	if err := c.Update(ctx, &good); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the broken edit is seen", func() error {
		var err error
		if snap, err = src.Load(ctx); err != nil {
			return err
		}
		if r := snap.Reports[api.Key{Kind: api.KindVirtualService, Namespace: "load", Name: "good"}]; r == nil || r.State != api.Rejected {
			return fmt.Errorf("report %+v", r)
		}
		return nil
	})
	for _, v := range snap.Resources.VirtualServices {
		if v.Name == "good" && v.Spec.VirtualHost.Routes[0].Matchers[0].Prefix != "/good" {
			t.Errorf("served %q, want the last good /good", v.Spec.VirtualHost.Routes[0].Matchers[0].Prefix)
		}
	}
	if vsNames(snap, "load") != "good" {
		t.Errorf("last good version dropped: %q", vsNames(snap, "load"))
	}

	// A restart (a new source on the saved state) still serves it.
	restarted, err := kubesource.New(ca, true, state)
	if err != nil {
		t.Fatal(err)
	}
	if snap, err = restarted.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for _, v := range snap.Resources.VirtualServices {
		if v.Name == "good" && v.Spec.VirtualHost.Routes[0].Matchers[0].Prefix != "/good" {
			t.Errorf("after a restart, served %q, want the last good /good", v.Spec.VirtualHost.Routes[0].Matchers[0].Prefix)
		}
	}
	if vsNames(snap, "load") != "good" {
		t.Errorf("after a restart, the last good version is dropped: %q", vsNames(snap, "load"))
	}
}

// memoryState is a StateStore in memory.
type memoryState struct{ data []byte }

func (m *memoryState) Load() ([]byte, error) {
	if m.data == nil {
		return nil, fs.ErrNotExist
	}
	return m.data, nil
}

func (m *memoryState) Save(data []byte) error {
	m.data = data
	return nil
}

func vsNames(s api.Snapshot, ns string) string {
	var names []string
	for _, v := range s.Resources.VirtualServices {
		if v.Namespace == ns {
			names = append(names, v.Name)
		}
	}
	return strings.Join(names, ",")
}

func secretsIn(s api.Snapshot, ns string) int {
	n := 0
	for _, sec := range s.Resources.Secrets {
		if sec.Namespace == ns {
			n++
		}
	}
	return n
}
