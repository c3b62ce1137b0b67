package kubesource

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gluon-gateway/gluon/api"
)

// stateKey is where a failure to save the state is reported: no resource
// of the cluster is at fault, and the status writer skips the kind.
var stateKey = api.Key{Kind: "State", Name: "(config state)"}

// restore reads the saved last good versions, if any: a resource made bad
// while the process was down serves its last good version after start, as
// it did before.
func (s *Source) restore() error {
	var docs []json.RawMessage
	if data, err := api.LoadState(s.state, &docs); data == nil {
		return err
	}
	for _, doc := range docs {
		d := api.Decode(doc)
		if d.Err != nil {
			return fmt.Errorf("reading the config state: %w", d.Err)
		}
		s.lastGood[api.KeyOf(d.Object)] = d.Object
	}
	return nil
}

// save stores the last good versions when one of them changed. Load runs
// on every EndpointSlice change; most leave them as they were.
func (s *Source) save() error {
	if s.state == nil || !s.unsaved {
		return nil
	}
	docs := make([]json.RawMessage, 0, len(s.lastGood))
	byName := func(a, b api.Key) int { return strings.Compare(a.String(), b.String()) }
	for _, k := range slices.SortedFunc(maps.Keys(s.lastGood), byName) {
		// Cached objects are shared and carry no kind: copy, then name it.
		o := s.lastGood[k].(runtime.Object).DeepCopyObject()
		o.GetObjectKind().SetGroupVersionKind(api.GroupVersion.WithKind(string(k.Kind)))
		b, err := json.Marshal(o)
		if err != nil {
			return fmt.Errorf("saving the config state: %w", err)
		}
		docs = append(docs, b)
	}
	data, err := json.Marshal(docs)
	if err != nil {
		return fmt.Errorf("saving the config state: %w", err)
	}
	if err := s.state.Save(data); err != nil {
		return fmt.Errorf("saving the config state: %w", err)
	}
	s.unsaved = false
	return nil
}

// sameVersions reports whether a and b hold the same version of the same
// resources: a cached object is replaced, never changed, so its UID and
// resourceVersion say when it is another.
func sameVersions(a, b map[api.Key]api.Object) bool {
	if len(a) != len(b) {
		return false
	}
	for k, o := range a {
		p, ok := b[k]
		if !ok || p.GetUID() != o.GetUID() || p.GetResourceVersion() != o.GetResourceVersion() {
			return false
		}
	}
	return true
}
