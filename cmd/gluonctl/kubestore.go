package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/clientcmd"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource"
)

// kubeStore keeps resources in a cluster: Gluon's CRDs, and its secrets as
// Kubernetes Secrets of Gluon's types.
type kubeStore struct {
	c    ctrlclient.Client
	host string
}

// kubeTimeout bounds one command's calls to the API server.
const kubeTimeout = 30 * time.Second

func newKubeStore(kubeconfig string) (*kubeStore, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	scheme, err := kubesource.NewScheme()
	if err != nil {
		return nil, err
	}
	c, err := ctrlclient.New(cfg, ctrlclient.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &kubeStore{c: c, host: cfg.Host}, nil
}

func kubeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), kubeTimeout)
}

// resources lists every Gluon resource in every namespace.
func (s *kubeStore) resources() (api.Resources, error) {
	c, cancel := kubeContext()
	defer cancel()
	var res api.Resources
	objs, err := kubesource.ListObjects(c, s.c)
	if err != nil {
		return res, fmt.Errorf("reading from %s: %w", s.host, err)
	}
	for _, o := range objs {
		res.Add(o)
	}
	var secrets corev1.SecretList
	if err := s.c.List(c, &secrets); err != nil {
		return res, fmt.Errorf("listing secrets from %s: %w", s.host, err)
	}
	for i := range secrets.Items {
		if sec, ok, err := kubesource.SecretOf(&secrets.Items[i]); ok && err == nil {
			res.Add(sec)
		}
	}
	res.Sort()
	return res, nil
}

func newKubeObject(k api.Kind) (ctrlclient.Object, error) {
	if k == api.KindSecret {
		return &corev1.Secret{}, nil
	}
	if obj, ok := kubesource.NewObject(k); ok {
		return obj, nil
	}
	return nil, fmt.Errorf("no Kubernetes kind for %s", k)
}

func (s *kubeStore) get(k api.Key) (api.Object, bool, error) {
	obj, err := newKubeObject(k.Kind)
	if err != nil {
		return nil, false, err
	}
	c, cancel := kubeContext()
	defer cancel()
	err = s.c.Get(c, ctrlclient.ObjectKey{Namespace: k.Namespace, Name: k.Name}, obj)
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", k, err)
	}
	if sec, ok := obj.(*corev1.Secret); ok {
		out, ok, err := kubesource.SecretOf(sec)
		if !ok {
			return nil, false, fmt.Errorf("%s is not a Gluon secret (type %s)", k, sec.Type)
		}
		return out, err == nil, err
	}
	return obj.(api.Object), true, nil
}

// put validates a resource and creates it, or replaces the one there
// (keeping its status, which Gluon writes).
func (s *kubeStore) put(o api.Object) (string, error) {
	if err := o.Validate(); err != nil {
		return "", fmt.Errorf("%s is invalid: %w", api.KeyOf(o), err)
	}
	obj, err := kubeObject(o)
	if err != nil {
		return "", err
	}
	c, cancel := kubeContext()
	defer cancel()
	err = s.c.Create(c, obj)
	if apierrors.IsAlreadyExists(err) {
		cur := obj.DeepCopyObject().(ctrlclient.Object)
		if err := s.c.Get(c, ctrlclient.ObjectKeyFromObject(obj), cur); err != nil {
			return "", fmt.Errorf("reading %s: %w", api.KeyOf(o), err)
		}
		obj.SetResourceVersion(cur.GetResourceVersion())
		err = s.c.Update(c, obj)
	}
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", api.KeyOf(o), err)
	}
	return s.host, nil
}

func kubeObject(o api.Object) (ctrlclient.Object, error) {
	if sec, ok := o.(*api.Secret); ok {
		return kubesource.KubeSecret(sec)
	}
	obj, ok := o.(ctrlclient.Object)
	if !ok {
		return nil, fmt.Errorf("%s cannot be stored in Kubernetes", api.KeyOf(o))
	}
	return obj, nil
}

func (s *kubeStore) delete(k api.Key) (string, error) {
	obj, err := newKubeObject(k.Kind)
	if err != nil {
		return "", err
	}
	obj.SetNamespace(k.Namespace)
	obj.SetName(k.Name)
	c, cancel := kubeContext()
	defer cancel()
	if err := s.c.Delete(c, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("%s not found in %s", k, s.host)
		}
		return "", fmt.Errorf("deleting %s: %w", k, err)
	}
	return s.host, nil
}

// statusReports turns the status Gluon wrote on each resource into a
// report; a resource with none yet is reported as not seen by Gluon.
func (s *kubeStore) statusReports() ([]api.Report, error) {
	res, err := s.resources()
	if err != nil {
		return nil, err
	}
	var out []api.Report
	add := func(o api.Object, st *api.ResourceStatus) {
		r := api.Report{Key: api.KeyOf(o), State: api.Warning, Problems: []api.Problem{{Code: api.NotSeen, Message: "no status yet: Gluon has not seen this resource"}}}
		if st != nil && st.State != "" {
			r.State, r.Problems = st.State, st.Problems
		}
		out = append(out, r)
	}
	for _, u := range res.Upstreams {
		add(u, u.Status.GetResourceStatus())
	}
	for _, vs := range res.VirtualServices {
		add(vs, vs.Status)
	}
	for _, g := range res.Gateways {
		add(g, g.Status)
	}
	if st := res.Settings; st != nil {
		add(st, st.Status)
	}
	return out, nil
}
