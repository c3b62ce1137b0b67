package dataplane

import (
	"sync"
	"time"
)

// maxCachedTokens bounds a provider's cache of verified tokens, as
// Envoy's jwt_cache_size (default 100).
const maxCachedTokens = 100

// tokenCache keeps verified tokens until they expire, so that a client's
// repeated requests pay for the signature check once.
type tokenCache struct {
	mu     sync.Mutex
	tokens map[string]cachedToken
}

type cachedToken struct {
	claims map[string]any
	until  time.Time
}

func (c *tokenCache) get(tok string, now time.Time) (map[string]any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[tok]
	if !ok {
		return nil, false
	}
	if !now.Before(t.until) {
		delete(c.tokens, tok)
		return nil, false
	}
	return t.claims, true
}

// put keeps a verified token until it expires; a full cache drops its
// expired tokens first, else one token.
func (c *tokenCache) put(tok string, claims map[string]any, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens = map[string]cachedToken{}
	}
	if len(c.tokens) >= maxCachedTokens {
		now := time.Now()
		for k, t := range c.tokens {
			if !now.Before(t.until) {
				delete(c.tokens, k)
			}
		}
		for k := range c.tokens {
			if len(c.tokens) < maxCachedTokens {
				break
			}
			delete(c.tokens, k)
		}
	}
	c.tokens[tok] = cachedToken{claims: claims, until: until}
}
