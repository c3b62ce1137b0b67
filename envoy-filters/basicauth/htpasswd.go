// Package basicauth is the logic of HTTP basic authentication against an
// htpasswd file with bcrypt and {SHA} users: Gluon's basic auth filter
// (golang plugin "gluon.basic_auth", for Envoy, whose own basic_auth reads
// only {SHA}) and the embedded data plane's run of Envoy's basic_auth
// share it.
package basicauth

import (
	"crypto/sha1" //nolint:gosec // htpasswd's {SHA} scheme is SHA-1, as Envoy's basic_auth reads it
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// maxCheckedPasswords bounds the cache of passwords checked against bcrypt
// hashes: bcrypt costs tens of milliseconds by design, too much to pay on
// every request of a client.
const maxCheckedPasswords = 1024

// Htpasswd are users' password hashes, and the passwords found right.
type Htpasswd struct {
	hashes map[string]string
	// decoy is a bcrypt hash of the file, checked for unknown users so
	// that they take as long to refuse as a wrong password ("" if none).
	decoy string
	mu    sync.Mutex
	good  map[[32]byte]bool // SHA-256 of user:password checked against a bcrypt hash
}

// ParseHtpasswd reads an htpasswd file of bcrypt ($2…) and {SHA} users;
// errors name lines, never hashes.
func ParseHtpasswd(s string) (*Htpasswd, error) {
	h := &Htpasswd{hashes: map[string]string{}, good: map[[32]byte]bool{}}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("users line %d is not user:hash", i+1)
		}
		if !strings.HasPrefix(hash, "{SHA}") && !strings.HasPrefix(hash, "$2") {
			return nil, fmt.Errorf("users line %d: only bcrypt and {SHA} hashes are supported", i+1)
		}
		h.hashes[user] = hash
		if h.decoy == "" && strings.HasPrefix(hash, "$2") {
			h.decoy = hash
		}
	}
	if len(h.hashes) == 0 {
		return nil, errors.New("no users")
	}
	return h, nil
}

// Check verifies a user's password against its hash, in constant time.
func (h *Htpasswd) Check(user, pass string) bool {
	hash, ok := h.hashes[user]
	if !ok {
		if h.decoy != "" {
			_ = bcrypt.CompareHashAndPassword([]byte(h.decoy), []byte(pass)) // time spent, answer ignored
		}
		return false
	}
	if b64, ok := strings.CutPrefix(hash, "{SHA}"); ok {
		sum := sha1.Sum([]byte(pass)) //nolint:gosec // the {SHA} scheme
		return subtle.ConstantTimeCompare([]byte(base64.StdEncoding.EncodeToString(sum[:])), []byte(b64)) == 1
	}
	key := sha256.Sum256([]byte(user + ":" + pass))
	h.mu.Lock()
	good := h.good[key]
	h.mu.Unlock()
	if good {
		return true
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass)) != nil {
		return false
	}
	h.mu.Lock()
	if len(h.good) >= maxCheckedPasswords {
		clear(h.good)
	}
	h.good[key] = true
	h.mu.Unlock()
	return true
}
