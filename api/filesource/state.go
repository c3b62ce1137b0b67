package filesource

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gluon-gateway/gluon/api"
)

// savedState is the stored form.
type savedState struct {
	// Files holds each file's last good resources, as JSON documents.
	Files map[string][]json.RawMessage `json:"files"`
	// FirstSeen is when each resource (by key) was first read.
	FirstSeen map[string]time.Time `json:"firstSeen"`
}

// restore reads the saved state, if any, into the loader.
func (l *Loader) restore() error {
	var saved savedState
	data, err := api.LoadState(l.state, &saved)
	if data == nil {
		return err
	}
	for file, docs := range saved.Files {
		objs := map[api.Key]api.Object{}
		for _, doc := range docs {
			d := api.Decode(doc)
			if d.Err != nil {
				return fmt.Errorf("config state of %s: %w", file, d.Err)
			}
			objs[api.KeyOf(d.Object)] = d.Object
		}
		l.lastGood[l.abs(file)] = objs
	}
	for k, t := range saved.FirstSeen {
		l.firstSeen[k] = t
	}
	l.saved = data
	return nil
}

// save stores the state when it changed since the last save.
func (l *Loader) save() error {
	saved := savedState{Files: map[string][]json.RawMessage{}, FirstSeen: l.firstSeen}
	for file, objs := range l.lastGood {
		docs := []json.RawMessage{}
		for _, k := range sortedKeys(objs) {
			b, err := json.Marshal(objs[k])
			if err != nil {
				return fmt.Errorf("saving the config state: %w", err)
			}
			docs = append(docs, b)
		}
		saved.Files[l.rel(file)] = docs
	}
	data, err := json.Marshal(saved)
	if err != nil {
		return fmt.Errorf("saving the config state: %w", err)
	}
	if bytes.Equal(data, l.saved) {
		return nil
	}
	if err := l.state.Save(data); err != nil {
		return fmt.Errorf("saving the config state: %w", err)
	}
	l.saved = data
	return nil
}

// stampAges sets each resource's creation time to when it was first read
// (forgetting resources that are gone), so that conflicts between
// resources are decided for the oldest, as in Kubernetes.
func (l *Loader) stampAges(files map[string]map[api.Key]api.Object, now time.Time) {
	seen := map[string]time.Time{}
	for _, objs := range files {
		for k, o := range objs {
			t, ok := l.firstSeen[k.String()]
			if !ok {
				t = now
			}
			seen[k.String()] = t
			o.SetCreationTimestamp(metav1.NewTime(t))
		}
	}
	l.firstSeen = seen
}

// ownerOf returns which of the files defining k keeps it: the one that
// served it before, else the first in lexical order.
func (l *Loader) ownerOf(k api.Key, files []string) string {
	for _, f := range files {
		if _, ok := l.lastGood[f][k]; ok {
			return f
		}
	}
	sort.Strings(files)
	return files[0]
}
