package api

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
