package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// savedSnapshot is the on-disk form: resources as binary protobuf, by type URL.
type savedSnapshot struct {
	Proxy     string              `json:"proxy"`
	Version   string              `json:"version"`
	Resources map[string][][]byte `json:"resources"`
}

const snapshotSuffix = ".snapshot.json"

// Sealer protects what is saved: snapshots hold credentials. Seal is
// applied before a write and Open after a read.
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// SealWith has every snapshot saved from now on sealed, and every one
// restored opened, by sealer.
func (s *Server) SealWith(sealer Sealer) { s.sealer = sealer }

func (s *Server) save(snap Snapshot) error {
	if s.stateDir == "" {
		return nil
	}
	saved := savedSnapshot{Proxy: snap.Proxy, Version: snap.Version, Resources: map[string][][]byte{}}
	for t, rs := range snap.Resources {
		saved.Resources[t] = [][]byte{}
		for _, r := range rs {
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
			if err != nil {
				return fmt.Errorf("encoding %s: %w", t, err)
			}
			saved.Resources[t] = append(saved.Resources[t], b)
		}
	}
	data, err := json.Marshal(saved)
	if err != nil {
		return fmt.Errorf("encoding snapshot: %w", err)
	}
	if s.sealer != nil {
		if data, err = s.sealer.Seal(data); err != nil {
			return fmt.Errorf("sealing snapshot: %w", err)
		}
	}
	return WriteAtomic(filepath.Join(s.stateDir, snap.Proxy+snapshotSuffix), data)
}

// WriteAtomic writes via a synced temp file and a rename, so a crash leaves
// either the old file or the new one, never half of one. The file is
// readable by its owner only: what is saved holds credentials.
func WriteAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("saving snapshot: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".snapshot-*")
	if err != nil {
		return fmt.Errorf("saving snapshot: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("saving snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving snapshot: %w", err)
	}
	return nil
}

// Restore serves every snapshot saved under the state directory and returns
// the proxies it restored. A file that cannot be read is skipped with its
// error; the others are still restored.
func (s *Server) Restore(ctx context.Context) ([]string, error) {
	if s.stateDir == "" {
		return nil, nil
	}
	files, err := filepath.Glob(filepath.Join(s.stateDir, "*"+snapshotSuffix))
	if err != nil {
		return nil, fmt.Errorf("restoring snapshots: %w", err)
	}
	var restored []string
	var errs []error
	for _, f := range files {
		snap, err := s.load(f)
		if err == nil {
			s.mu.Lock()
			err = s.setLocked(ctx, snap)
			s.mu.Unlock()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restoring %s: %w", f, err))
			continue
		}
		restored = append(restored, snap.Proxy)
	}
	return restored, errors.Join(errs...)
}

func (s *Server) load(path string) (Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Snapshot{}, err
	}
	if s.sealer != nil {
		if data, err = s.sealer.Open(data); err != nil {
			return Snapshot{}, err
		}
	}
	var saved savedSnapshot
	if err := json.Unmarshal(data, &saved); err != nil {
		return Snapshot{}, err
	}
	if saved.Proxy != strings.TrimSuffix(filepath.Base(path), snapshotSuffix) {
		return Snapshot{}, fmt.Errorf("file names proxy %q", saved.Proxy)
	}
	resources := map[string][]types.Resource{}
	for t, blobs := range saved.Resources {
		mt, err := protoregistry.GlobalTypes.FindMessageByURL(t)
		if err != nil {
			return Snapshot{}, fmt.Errorf("type %s: %w", t, err)
		}
		resources[t] = []types.Resource{}
		for _, b := range blobs {
			m := mt.New().Interface()
			if err := proto.Unmarshal(b, m); err != nil {
				return Snapshot{}, fmt.Errorf("type %s: %w", t, err)
			}
			resources[t] = append(resources[t], m)
		}
	}
	// Versions are hashes of the content: the same as when it was saved.
	snap, err := newSnapshot(saved.Proxy, resources, Snapshot{})
	snap.Restored = true
	return snap, err
}
