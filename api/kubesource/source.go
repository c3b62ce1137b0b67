package kubesource

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/gluon-gateway/gluon/api"
)

// debounce gathers a burst of events (a rollout touching many slices) into
// one snapshot while keeping an endpoint change well under 100 ms from push.
const debounce = 10 * time.Millisecond

// Source turns the cluster's objects into snapshots.
type Source struct {
	cache      cache.Cache
	gatewayAPI bool
	// lastGood holds, per resource, its last version that validated, so a
	// bad edit written around the webhook leaves traffic as it was. state
	// keeps it across restarts (nil: it does not survive one); unsaved
	// says lastGood changed since it was last saved.
	lastGood map[api.Key]api.Object
	state    api.StateStore
	unsaved  bool
	// streamRoutes: TLSRoutes and TCPRoutes are installed and read;
	// grpcRoutes: GRPCRoutes are.
	streamRoutes, grpcRoutes bool
}

// New returns a source reading from c. gatewayAPI says whether the Gateway
// API CRDs are installed (see GatewayAPIInstalled). The source is returned
// even when the saved state cannot be read; it then starts without it.
func New(c cache.Cache, gatewayAPI bool, state api.StateStore) (*Source, error) {
	s := &Source{cache: c, gatewayAPI: gatewayAPI, lastGood: map[api.Key]api.Object{}, state: state}
	if state == nil {
		return s, nil
	}
	return s, s.restore()
}

// GatewayAPIInstalled tells whether the cluster serves HTTPRoutes.
func GatewayAPIInstalled(m meta.RESTMapper) (bool, error) { return kindServed(m, "HTTPRoute") }

// StreamRoutesInstalled tells whether the cluster serves TLSRoutes and
// TCPRoutes (v1, the standard channel since Gateway API 1.5).
func StreamRoutesInstalled(m meta.RESTMapper) (bool, error) {
	tls, err := kindServed(m, "TLSRoute")
	if err != nil || !tls {
		return false, err
	}
	return kindServed(m, "TCPRoute")
}

func kindServed(m meta.RESTMapper, kind string) (bool, error) {
	_, err := m.RESTMapping(gwv1.SchemeGroupVersion.WithKind(kind).GroupKind(), gwv1.SchemeGroupVersion.Version)
	if meta.IsNoMatchError(err) {
		return false, nil
	}
	return err == nil, err
}

// ServeStreamRoutes has the source read TLSRoutes and TCPRoutes too; call
// it before Run, when StreamRoutesInstalled says they are.
func (s *Source) ServeStreamRoutes() { s.streamRoutes = true }

// GRPCRoutesInstalled tells whether the cluster serves GRPCRoutes (v1,
// the standard channel since Gateway API 1.1).
func GRPCRoutesInstalled(m meta.RESTMapper) (bool, error) { return kindServed(m, "GRPCRoute") }

// ServeGRPCRoutes has the source read GRPCRoutes too; call it before Run,
// when GRPCRoutesInstalled says they are.
func (s *Source) ServeGRPCRoutes() { s.grpcRoutes = true }

func (s *Source) watched() []client.Object {
	objs := []client.Object{
		&api.Upstream{}, &api.VirtualService{}, &api.Gateway{}, &api.Settings{}, &api.RouteOption{},
		&corev1.Secret{}, &corev1.Service{}, &discoveryv1.EndpointSlice{}, &corev1.Namespace{},
	}
	if s.gatewayAPI {
		objs = append(objs, gatewayAPIObjects(s.streamRoutes, s.grpcRoutes)...)
	}
	return objs
}

// Run calls onLoad with a snapshot after the cache has synced and after
// every change, until ctx ends.
func (s *Source) Run(ctx context.Context, onLoad func(api.Snapshot, error)) error {
	return OnChange(ctx, s.cache, s.watched(), func() error { onLoad(s.Load(ctx)); return nil })
}

// OnChange calls do once the cache has synced and then after every change
// of the given kinds, one call per burst of changes, until ctx ends. When
// do fails, it is called again after a backoff (100 ms doubling to 30 s).
func OnChange(ctx context.Context, c cache.Cache, kinds []client.Object, do func() error) error {
	changed := make(chan struct{}, 1)
	notify := func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	for _, obj := range kinds {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("watching %T: %w", obj, err)
		}
		if _, err := inf.AddEventHandler(eventHandler(notify)); err != nil {
			return fmt.Errorf("watching %T: %w", obj, err)
		}
	}
	if !c.WaitForCacheSync(ctx) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("kubernetes cache did not sync")
	}
	notify()
	backoff := minBackoff
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		time.Sleep(debounce)
		select { // events during the pause are in this call
		case <-changed:
		default:
		}
		if err := do(); err != nil {
			time.AfterFunc(backoff, notify)
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
	}
}

const minBackoff, maxBackoff = 100 * time.Millisecond, 30 * time.Second

// eventHandler signals on every change that can alter translation. Status
// writes (the source's own) change neither generation nor labels and are
// skipped, so that writing status does not trigger another translation.
func eventHandler(notify func()) toolscache.ResourceEventHandlerFuncs {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { notify() },
		DeleteFunc: func(any) { notify() },
		UpdateFunc: func(o, n any) {
			oldObj, ok1 := o.(client.Object)
			newObj, ok2 := n.(client.Object)
			if ok1 && ok2 && newObj.GetGeneration() != 0 &&
				oldObj.GetGeneration() == newObj.GetGeneration() &&
				maps.Equal(oldObj.GetLabels(), newObj.GetLabels()) &&
				maps.Equal(oldObj.GetAnnotations(), newObj.GetAnnotations()) {
				return
			}
			notify()
		},
	}
}

// Load reads everything from the cache into one snapshot.
func (s *Source) Load(ctx context.Context) (api.Snapshot, error) {
	snap := api.Snapshot{Reports: api.Reports{}}
	next := map[api.Key]api.Object{}
	if err := s.loadGluon(ctx, &snap, next); err != nil {
		return api.Snapshot{}, err
	}
	s.unsaved = s.unsaved || !sameVersions(s.lastGood, next)
	s.lastGood = next
	if err := s.save(); err != nil {
		snap.Reports.Warn(stateKey, api.Problem{Code: api.StateNotSaved, Message: err.Error()})
	}
	if err := s.loadSecrets(ctx, &snap); err != nil {
		return api.Snapshot{}, err
	}
	var services corev1.ServiceList
	var slices discoveryv1.EndpointSliceList
	if err := list(ctx, s.cache, &services, &slices); err != nil {
		return api.Snapshot{}, err
	}
	snap.Resources.ServiceEndpoints = serviceEndpoints(services.Items, slices.Items)
	if err := s.loadGatewayAPI(ctx, &snap.Resources.GatewayAPI); err != nil {
		return api.Snapshot{}, err
	}
	snap.Resources.Sort()
	return snap, nil
}

// list reads from the cache without copying: translation only reads what
// it is given, and a cached object is replaced, never changed, on update.
// Copying a thousand objects per change was a quarter of the CPU an
// EndpointSlice push took.
func list(ctx context.Context, c client.Reader, lists ...client.ObjectList) error {
	for _, l := range lists {
		if err := c.List(ctx, l, client.UnsafeDisableDeepCopy); err != nil {
			return fmt.Errorf("listing %T: %w", l, err)
		}
	}
	return nil
}

// loadGluon validates every Gluon resource. A resource that fails keeps its
// last good version, if it had one, and is reported Rejected either way.
func (s *Source) loadGluon(ctx context.Context, snap *api.Snapshot, next map[api.Key]api.Object) error {
	objs, err := ListObjects(ctx, s.cache)
	if err != nil {
		return err
	}
	for _, o := range objs {
		k := api.KeyOf(o)
		snap.Reports.Accept(k, "")
		if validBefore(s.lastGood[k], o) {
			next[k] = o
			snap.Resources.Add(o)
			continue
		}
		if err := o.Validate(); err != nil {
			snap.Reports.Reject(k, api.ProblemsOf(err, api.InvalidField, "")...)
			prev, ok := s.lastGood[k]
			if !ok {
				continue
			}
			snap.Reports.Warn(k, api.Problem{Code: api.ServingLastGood, Message: fmt.Sprintf("serving generation %d, the last one that was valid", prev.GetGeneration())})
			o = prev
		}
		next[k] = o
		snap.Resources.Add(o)
	}
	return nil
}

// validBefore reports whether o is the very version that last validated:
// a cached object is replaced, never changed, so its verdict stands. Load
// runs on every EndpointSlice change; validating (compiling every route's
// regexes) each unchanged resource again each time was wasted.
func validBefore(last, o api.Object) bool {
	return last != nil && o.GetResourceVersion() != "" &&
		last.GetUID() == o.GetUID() && last.GetResourceVersion() == o.GetResourceVersion()
}

// ListObjects lists every Gluon resource (upstreams, virtual services,
// gateways, settings, route options) that r holds; from a cache, uncopied (see list).
func ListObjects(ctx context.Context, r client.Reader) ([]api.Object, error) {
	var us api.UpstreamList
	var vss api.VirtualServiceList
	var gws api.GatewayList
	var sts api.SettingsList
	var ros api.RouteOptionList
	if err := list(ctx, r, &us, &vss, &gws, &sts, &ros); err != nil {
		return nil, err
	}
	var objs []api.Object
	for i := range us.Items {
		objs = append(objs, &us.Items[i])
	}
	for i := range vss.Items {
		objs = append(objs, &vss.Items[i])
	}
	for i := range gws.Items {
		objs = append(objs, &gws.Items[i])
	}
	for i := range sts.Items {
		objs = append(objs, &sts.Items[i])
	}
	for i := range ros.Items {
		objs = append(objs, &ros.Items[i])
	}
	return objs, nil
}

func (s *Source) loadSecrets(ctx context.Context, snap *api.Snapshot) error {
	var secrets corev1.SecretList
	if err := list(ctx, s.cache, &secrets); err != nil {
		return err
	}
	for i := range secrets.Items {
		sec, ok, err := SecretOf(&secrets.Items[i])
		if !ok {
			continue
		}
		k := api.Key{Kind: api.KindSecret, Namespace: secrets.Items[i].Namespace, Name: secrets.Items[i].Name}
		snap.Reports.Accept(k, "")
		if err != nil {
			snap.Reports.Reject(k, api.ProblemsOf(err, api.InvalidField, "")...)
			continue
		}
		snap.Resources.Add(sec)
	}
	return nil
}
