package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/kubesource"
)

// UDS writes discovered Upstreams into Namespace.
type UDS struct {
	Client    client.Client
	Cache     cache.Cache
	Namespace string
	Mode      Mode
	Log       *slog.Logger
}

// Run reconciles after every change to Services, Namespaces or discovered
// Upstreams, retrying failures with backoff, until ctx ends. Only the
// elected leader should run it.
func (u *UDS) Run(ctx context.Context) error {
	kinds := []client.Object{&corev1.Service{}, &corev1.Namespace{}, &api.Upstream{}}
	return kubesource.OnChange(ctx, u.Cache, kinds, func() error {
		err := u.Reconcile(ctx)
		if err != nil {
			u.Log.Error("upstream discovery failed; retrying", "err", err)
		}
		return err
	})
}

// Reconcile makes the discovered Upstreams match the Services: it creates
// missing ones, deletes those whose Service (or port) is gone or opted out,
// and updates only the labels it owns on the others, so users' edits to an
// Upstream (TLS, a swagger URL, more labels) and its status survive. An
// Upstream whose discovered-by label a user removed is theirs alone.
func (u *UDS) Reconcile(ctx context.Context) error {
	// Cached objects are read, not copied: nothing here changes them
	// (relabel changes a copy), and copying every Service, Namespace and
	// Upstream on every Service event was most of a reconcile.
	var services corev1.ServiceList
	var namespaces corev1.NamespaceList
	var existing api.UpstreamList
	if err := u.Cache.List(ctx, &services, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing services: %w", err)
	}
	if err := u.Cache.List(ctx, &namespaces, client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing namespaces: %w", err)
	}
	if err := u.Cache.List(ctx, &existing, client.InNamespace(u.Namespace), client.MatchingLabels{api.DiscoveredLabel: Discoverer},
		client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing discovered upstreams: %w", err)
	}
	nsLabels := map[string]map[string]string{}
	for _, ns := range namespaces.Items {
		nsLabels[ns.Name] = ns.Labels
	}
	have := map[string]*api.Upstream{}
	for i := range existing.Items {
		have[existing.Items[i].Name] = &existing.Items[i]
	}
	var writes []func() error
	for _, want := range Desired(u.Mode, services.Items, nsLabels, u.Namespace) {
		cur, ok := have[want.Name]
		delete(have, want.Name)
		switch {
		case !ok:
			writes = append(writes, func() error { return u.create(ctx, want) })
		case !hasLabels(cur.Labels, want.Labels):
			writes = append(writes, func() error { return u.relabel(ctx, cur, want) })
		}
	}
	for _, gone := range have {
		writes = append(writes, func() error {
			if err := client.IgnoreNotFound(u.Client.Delete(ctx, gone)); err != nil {
				return fmt.Errorf("deleting upstream %s: %w", gone.Name, err)
			}
			return nil
		})
	}
	return runAll(writes, writers)
}

// writers bounds concurrent writes: a thousand Services discovered at once
// should take seconds, not minutes, without flooding the API server.
const writers = 8

// runAll runs the functions on that many goroutines and joins their errors.
func runAll(fns []func() error, workers int) error {
	var mu sync.Mutex
	var errs []error
	next := make(chan func() error)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fn := range next {
				if err := fn(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, fn := range fns {
		next <- fn
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

func (u *UDS) create(ctx context.Context, want *api.Upstream) error {
	err := u.Client.Create(ctx, want)
	if apierrors.IsAlreadyExists(err) {
		return nil // written by hand, without our label: the user's
	}
	if err != nil {
		return fmt.Errorf("creating upstream %s: %w", want.Name, err)
	}
	return nil
}

// hasLabels reports whether labels hold every label of want.
func hasLabels(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// relabel sets the labels Gluon owns on an existing Upstream, on a copy:
// cur is the cache's own object.
func (u *UDS) relabel(ctx context.Context, cur *api.Upstream, want *api.Upstream) error {
	next := cur.DeepCopy()
	for k, v := range want.Labels {
		next.Labels[k] = v
	}
	if err := u.Client.Patch(ctx, next, client.MergeFrom(cur)); err != nil {
		return fmt.Errorf("updating upstream %s: %w", want.Name, err)
	}
	return nil
}
