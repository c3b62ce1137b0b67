package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
)

// StateStore keeps a config source's memory across restarts: the last good
// version of each resource (so that a resource broken while the process
// was down still serves as it did) and, for files, when each resource was
// first seen (so that the oldest of two conflicting resources keeps
// winning). Load on a store with nothing saved yet returns an error
// wrapping fs.ErrNotExist. The state holds Secrets' values: a store keeps
// it private (0600, and encrypted when the operator gives a key).
//
// +kubebuilder:object:generate=false
type StateStore interface {
	Load() ([]byte, error)
	Save([]byte) error
}

// LoadState reads what store holds into v (JSON) and returns it as read;
// nil, and no error, when nothing was saved yet.
func LoadState(store StateStore, v any) ([]byte, error) {
	data, err := store.Load()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the config state: %w", err)
	}
	return data, nil
}
