// Package demofile is where a running `gluon demo` says how to reach it
// (its admin endpoint, its config directory), so that gluonctl finds it
// without flags: a file in the user's cache directory, removed when the
// demo stops.
package demofile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Info is what the demo writes.
type Info struct {
	PID       int    `json:"pid"`
	AdminAddr string `json:"adminAddr"`
	ConfigDir string `json:"configDir"`
	// ConsulAddr is set when the demo's config lives in Consul's KV store.
	ConsulAddr string `json:"consulAddr,omitempty"`
}

// Path is the file: $XDG_CACHE_HOME/gluon/demo.json, else
// ~/.cache/gluon/demo.json.
func Path() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("demo file: %w", err)
	}
	return filepath.Join(dir, "gluon", "demo.json"), nil
}

// Write records a running demo; remove takes the record away.
func Write(info Info) (remove func(), err error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("demo file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("demo file: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("demo file: %w", err)
	}
	return func() { _ = os.Remove(path) }, nil // a file already gone is fine
}

// Read returns the running demo's record; false when there is none, or
// the demo that wrote it is gone (it was killed before it could remove
// it).
func Read() (Info, bool) {
	path, err := Path()
	if err != nil {
		return Info{}, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Info{}, false
	}
	var info Info
	if json.Unmarshal(b, &info) != nil || info.PID <= 0 {
		return Info{}, false
	}
	if err := syscall.Kill(info.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return Info{}, false
	}
	return info, true
}
