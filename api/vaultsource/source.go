// Package vaultsource reads the values of Secrets kept in Vault's KV v2
// store (spec.vault.path), with a token or AppRole login, and polls each
// path's version so that a new version is used as soon as it is read.
package vaultsource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/gluon-gateway/gluon/api"
)

// Resolved is what Vault holds at one path: the secret's spec, or why it
// could not be read.
type Resolved struct {
	Spec    api.SecretSpec
	Version int
	Err     string
}

// Source polls the paths it is given.
type Source struct {
	Client   *vaultapi.Client
	Interval time.Duration
	Log      *slog.Logger
	// Login, when set, logs in again (an AppRole token that expired): a
	// read refused with 403 calls it once and reads again.
	Login func(context.Context) error

	mu       sync.Mutex
	paths    []string
	resolved map[string]Resolved
	wake     chan struct{}
}

// New returns a source reading with c every interval.
func New(c *vaultapi.Client, interval time.Duration, log *slog.Logger) *Source {
	return &Source{Client: c, Interval: interval, Log: log, resolved: map[string]Resolved{}, wake: make(chan struct{}, 1)}
}

// Watch sets the paths to read (those the config's Secrets name); a new
// path is read at once.
func (s *Source) Watch(paths []string) {
	sort.Strings(paths)
	s.mu.Lock()
	changed := !reflect.DeepEqual(paths, s.paths)
	s.paths = paths
	s.mu.Unlock()
	if changed {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Run reads every path each interval (or when the paths change) and calls
// onChange with what every path holds when any of it changed.
func (s *Source) Run(ctx context.Context, onChange func(map[string]Resolved)) error {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if s.poll(ctx) {
			onChange(s.snapshot())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

func (s *Source) snapshot() map[string]Resolved {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Resolved, len(s.resolved))
	for k, v := range s.resolved {
		out[k] = v
	}
	return out
}

// poll reads every path and reports whether anything changed.
func (s *Source) poll(ctx context.Context) bool {
	s.mu.Lock()
	paths := s.paths
	s.mu.Unlock()
	next := make(map[string]Resolved, len(paths))
	for _, p := range paths {
		next[p] = s.read(ctx, p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if reflect.DeepEqual(next, s.resolved) {
		return false
	}
	s.resolved = next
	return true
}

// read reads the newest version at path ("<mount>/<path>").
func (s *Source) read(ctx context.Context, path string) Resolved {
	mount, rest, _ := strings.Cut(path, "/")
	secret, err := s.Client.KVv2(mount).Get(ctx, rest)
	var respErr *vaultapi.ResponseError
	if errors.As(err, &respErr) && respErr.StatusCode == http.StatusForbidden && s.Login != nil {
		if lerr := s.Login(ctx); lerr != nil {
			s.Log.Warn("vault login failed", "err", lerr)
		} else {
			secret, err = s.Client.KVv2(mount).Get(ctx, rest)
		}
	}
	if err != nil {
		// Vault's error text names the path, never a value.
		return Resolved{Err: fmt.Sprintf("vault %s: %v", path, err)}
	}
	raw, err := json.Marshal(secret.Data)
	if err != nil {
		return Resolved{Err: fmt.Sprintf("vault %s: %v", path, err)}
	}
	var spec api.SecretSpec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return Resolved{Err: fmt.Sprintf("vault %s: its data is not a secret spec (aws, azure, tls, header, apiKey, htpasswd): %s", path, fieldOnly(err))}
	}
	out := Resolved{Spec: spec}
	if secret.VersionMetadata != nil {
		out.Version = secret.VersionMetadata.Version
	}
	return out
}

// fieldOnly keeps a JSON error's kind and field, not the value it quotes.
func fieldOnly(err error) string {
	if typeErr := (*json.UnmarshalTypeError)(nil); errors.As(err, &typeErr) {
		return "field " + typeErr.Field + " is not a " + typeErr.Type.String()
	}
	if strings.HasPrefix(err.Error(), "json: unknown field") {
		return err.Error()
	}
	return "malformed"
}
