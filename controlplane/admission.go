package controlplane

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/gateway"
	"github.com/gluon-gateway/gluon/xds/translator"
)

// Admit translates the current config with obj added or replaced. It fails
// when obj is rejected, when stage 2 would leave a part of obj out, or when
// stage 2 fails in a way it does not fail now.
func (p *Pipeline) Admit(obj api.Object) (warnings []string, err error) {
	defer func(start time.Time) {
		verdict := "allowed"
		if err != nil {
			verdict = "denied"
		}
		p.metrics.admission.WithLabelValues(verdict).Observe(time.Since(start).Seconds())
	}(time.Now())
	p.translateMu.Lock()
	var res api.Resources
	if p.source != nil {
		res = p.source.Resources
	}
	p.translateMu.Unlock()
	p.mu.Lock()
	current := slices.Clone(p.errors)
	p.mu.Unlock()

	res = withObject(res, obj)
	out := gateway.Translate(res, p.catalog.Snapshot(), p.gatewayOptions())
	if r := out.Reports[api.KeyOf(obj)]; r != nil {
		switch r.State {
		case api.Rejected:
			return nil, errors.New(strings.Join(r.Reasons(), "; "))
		case api.Warning:
			warnings = r.Reasons()
		}
	}
	for _, proxy := range out.Proxies {
		built, err := translator.Translate(proxy)
		if err != nil && !slices.Contains(current, err.Error()) {
			return nil, fmt.Errorf("proxy %s would not translate: %w", proxy.Name, err)
		}
		if err != nil {
			continue
		}
		leftOut := api.Reports{}
		reportLeftOut(leftOut, proxy.Name, built.Problems)
		if r := leftOut[api.KeyOf(obj)]; r != nil {
			return nil, errors.New(strings.Join(r.Reasons(), "; "))
		}
	}
	return warnings, nil
}

// withObject returns res with obj in place of the resource of the same key,
// or added. The slices are copied; res itself is shared and not changed.
func withObject(res api.Resources, obj api.Object) api.Resources {
	switch o := obj.(type) {
	case *api.Upstream:
		res.Upstreams = replaced(res.Upstreams, o)
	case *api.VirtualService:
		res.VirtualServices = replaced(res.VirtualServices, o)
	case *api.Gateway:
		res.Gateways = replaced(res.Gateways, o)
	case *api.Settings:
		res.Settings = o
	case *api.RouteOption:
		res.RouteOptions = replaced(res.RouteOptions, o)
	}
	return res
}

// replaced returns a new sorted list: the current one is shared with the
// pipeline, so it is neither changed nor re-sorted in place.
func replaced[T api.Object](list []T, o T) []T {
	out := make([]T, 0, len(list)+1)
	for _, x := range list {
		if api.KeyOf(x) != api.KeyOf(o) {
			out = append(out, x)
		}
	}
	out = append(out, o)
	api.SortByKey(out)
	return out
}
