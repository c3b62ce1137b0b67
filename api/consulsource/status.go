package consulsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	consulapi "github.com/hashicorp/consul/api"
	"sigs.k8s.io/yaml"

	"github.com/gluon-gateway/gluon/api"
)

// StatusPrefix is the prefix parallel to prefix ("gluon/") where the
// leader writes status and shares discovery: "gluon-status/".
func StatusPrefix(prefix string) string { return strings.TrimSuffix(prefix, "/") + "-status/" }

// StatusWriter writes each resource's verdict under a status prefix, at
// the resource's own key there (<status prefix>/gluon.dev/v1/<Kind>/
// <namespace>/<name>), as YAML: state, reason, problems, who reported it;
// an Upstream's also says what discovery found on it.
type StatusWriter struct {
	KV     *consulapi.KV
	Prefix string
	// ReportedBy names the writer (the replica).
	ReportedBy string
}

// Write makes the status entries the reports': changed ones are written,
// those of resources gone are deleted, and the others left alone.
func (w *StatusWriter) Write(ctx context.Context, reports []api.Report, discovered map[api.ResourceRef]api.FunctionCount) error {
	root := strings.TrimSuffix(w.Prefix, "/") + "/" + api.Group + "/"
	pairs, _, err := w.KV.List(root, (&consulapi.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("reading status %s: %w", root, err)
	}
	current := make(map[string][]byte, len(pairs))
	for _, p := range pairs {
		current[p.Key] = p.Value
	}
	opts := (&consulapi.WriteOptions{}).WithContext(ctx)
	var errs []error
	for _, r := range reports {
		key := Key(w.Prefix, r.Key)
		value, err := yaml.Marshal(w.status(r, discovered[api.ResourceRef{Namespace: r.Key.Namespace, Name: r.Key.Name}]))
		if err != nil {
			errs = append(errs, fmt.Errorf("status of %s: %w", r.Key, err))
			continue
		}
		old, seen := current[key]
		delete(current, key)
		if seen && bytes.Equal(old, value) {
			continue
		}
		if _, err := w.KV.Put(&consulapi.KVPair{Key: key, Value: value}, opts); err != nil {
			errs = append(errs, fmt.Errorf("writing status %s: %w", key, err))
		}
	}
	for key := range current {
		if _, err := w.KV.Delete(key, opts); err != nil {
			errs = append(errs, fmt.Errorf("deleting status %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

func (w *StatusWriter) status(r api.Report, found api.FunctionCount) any {
	st := api.ResourceStatus{State: r.State, Reason: strings.Join(r.Reasons(), "; "), Problems: r.Problems, ReportedBy: w.ReportedBy}
	if r.Key.Kind != api.KindUpstream {
		return st
	}
	return api.UpstreamStatus{ResourceStatus: st, Functions: found.Functions, FunctionSource: found.Source}
}

// ReadStatus is every verdict written under the status prefix, for
// readers such as gluonctl: by key, each with who reported it.
func ReadStatus(kv *consulapi.KV, statusPrefix string) (map[api.Key]api.UpstreamStatus, error) {
	root := strings.TrimSuffix(statusPrefix, "/") + "/" + api.Group + "/v1/"
	pairs, _, err := kv.List(root, nil)
	if err != nil {
		return nil, fmt.Errorf("reading status %s: %w", root, err)
	}
	out := map[api.Key]api.UpstreamStatus{}
	for _, p := range pairs {
		parts := strings.Split(strings.TrimPrefix(p.Key, root), "/")
		if len(parts) != 3 {
			continue
		}
		var st api.UpstreamStatus
		if err := yaml.Unmarshal(p.Value, &st); err != nil {
			return nil, fmt.Errorf("status %s: %w", p.Key, err)
		}
		out[api.Key{Kind: api.Kind(parts[0]), Namespace: parts[1], Name: parts[2]}] = st
	}
	return out, nil
}
