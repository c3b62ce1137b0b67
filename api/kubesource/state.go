package kubesource

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
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
	data, err := s.state.Load()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the config state: %w", err)
	}
	var docs []json.RawMessage
	if err := json.Unmarshal(data, &docs); err != nil {
		return fmt.Errorf("reading the config state: %w", err)
	}
	for _, doc := range docs {
		d := api.Decode(doc)
		if d.Err != nil {
			return fmt.Errorf("reading the config state: %w", d.Err)
		}
		s.lastGood[api.KeyOf(d.Object)] = d.Object
	}
	s.saved = versions(s.lastGood)
	return nil
}

// save stores the last good versions when one of them changed. Load runs
// on every EndpointSlice change; most leave them as they were.
func (s *Source) save() error {
	now := versions(s.lastGood)
	if s.state == nil || maps.Equal(now, s.saved) {
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
	s.saved = now
	return nil
}

// versions names each resource's version: a cached object is replaced,
// never changed, so its UID and resourceVersion say when it is another.
func versions(objs map[api.Key]api.Object) map[api.Key]string {
	v := make(map[api.Key]string, len(objs))
	for k, o := range objs {
		v[k] = string(o.GetUID()) + "/" + o.GetResourceVersion()
	}
	return v
}
