package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeKey(t *testing.T, key string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSealedStateFiles(t *testing.T) {
	sealer, err := loadSealer(writeKey(t, strings.Repeat("ab", 32)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := configStateFile(t.TempDir(), sealer)
	secret := []byte(`{"secretKey": "never-on-disk-in-clear"}`)
	if err := f.Save(secret); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(f.path)
	if bytes.Contains(raw, []byte("never-on-disk")) {
		t.Fatal("the sealed file holds the secret in clear")
	}
	if fi, _ := os.Stat(f.path); fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := f.Load()
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	other, _ := loadSealer(writeKey(t, strings.Repeat("x", 32)))
	if _, err := (stateFile{path: f.path, sealer: other}).Load(); err == nil {
		t.Error("another key opened the file")
	}
	plain := configStateFile(t.TempDir(), nil)
	_ = plain.Save(secret)
	if _, err := (stateFile{path: plain.path, sealer: sealer}).Load(); err == nil {
		t.Error("a plain file was taken for a sealed one")
	}
	if _, err := loadSealer(writeKey(t, "short")); err == nil {
		t.Error("a short key was accepted")
	}
}
