package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gluon-gateway/gluon/xds/server"
)

// sealedMagic starts a file sealed by aesSealer, so that a plain file (saved
// before a key was given) is told apart and a sealed one never parsed.
var sealedMagic = []byte("GLUON-SEALED-1\n")

// aesSealer encrypts state files at rest with AES-256-GCM: the last good
// snapshots and config hold cloud credentials and keys.
type aesSealer struct{ aead cipher.AEAD }

// loadSealer reads a 32-byte key (raw, hex or base64) from path.
func loadSealer(path string) (*aesSealer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("state key: %w", err)
	}
	key := bytes.TrimSpace(raw)
	for _, decode := range []func([]byte) ([]byte, error){hexDecode, base64Decode} {
		if len(key) == 32 {
			break
		}
		if k, err := decode(key); err == nil {
			key = k
		}
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("state key in %s: want 32 bytes (raw, hex or base64), got %d", path, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &aesSealer{aead: aead}, nil
}

func hexDecode(b []byte) ([]byte, error) { return hex.DecodeString(string(b)) }
func base64Decode(b []byte) ([]byte, error) {
	return base64.StdEncoding.DecodeString(string(b))
}

func (s *aesSealer) Seal(plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append(append([]byte{}, sealedMagic...), nonce...)
	return s.aead.Seal(out, nonce, plain, sealedMagic), nil
}

func (s *aesSealer) Open(sealed []byte) ([]byte, error) {
	if !bytes.HasPrefix(sealed, sealedMagic) {
		return nil, errors.New("the file is not sealed (saved without --state-key-file?)")
	}
	rest := sealed[len(sealedMagic):]
	if len(rest) < s.aead.NonceSize() {
		return nil, errors.New("sealed file too short")
	}
	plain, err := s.aead.Open(nil, rest[:s.aead.NonceSize()], rest[s.aead.NonceSize():], sealedMagic)
	if err != nil {
		return nil, fmt.Errorf("opening a sealed file (another key?): %w", err)
	}
	return plain, nil
}

// stateFile is one file of the state directory, sealed when a sealer is
// set; it is the config source's api.StateStore.
type stateFile struct {
	path   string
	sealer server.Sealer
}

func (f stateFile) Load() ([]byte, error) {
	data, err := os.ReadFile(f.path)
	if err != nil || f.sealer == nil {
		return data, err
	}
	return f.sealer.Open(data)
}

func (f stateFile) Save(data []byte) error {
	if f.sealer != nil {
		var err error
		if data, err = f.sealer.Seal(data); err != nil {
			return err
		}
	}
	return server.WriteAtomic(f.path, data)
}

// configStateFile is where the config loader's memory is kept.
func configStateFile(stateDir string, sealer server.Sealer) stateFile {
	return stateFile{path: filepath.Join(stateDir, "config.state"), sealer: sealer}
}
