package dataplane

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gluon-gateway/gluon/dataplane/internal/upstream"
)

const (
	// maxJWKSBytes bounds a fetched JWKS document.
	maxJWKSBytes = 1 << 20
	// jwksRefetchInterval bounds fetches for key ids not in the set: a
	// token with an unknown kid fetches the set again at most this often,
	// so forged kids cannot make the proxy hammer the JWKS server.
	jwksRefetchInterval = 5 * time.Second
)

// parseJWKS reads a JWKS document, or a PEM public key as a set of one.
func parseJWKS(doc []byte) (*jose.JSONWebKeySet, error) {
	if block, _ := pem.Decode(doc); block != nil {
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM public key: %w", err)
		}
		return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub}}}, nil
	}
	set := &jose.JSONWebKeySet{}
	if err := json.Unmarshal(doc, set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("JWKS: no keys")
	}
	return set, nil
}

// remoteJWKS is a provider's key set fetched from a URL through a
// cluster: kept for the cache duration, fetched again when it expires or
// (at most every jwksRefetchInterval) for a key id it does not hold.
// Requests waiting for a fetch share it.
type remoteJWKS struct {
	uri      *url.URL
	cluster  string
	timeout  time.Duration
	cacheFor time.Duration

	mu        sync.Mutex
	set       *jose.JSONWebKeySet
	fetchedAt time.Time
	fetching  chan struct{} // closed when the fetch under way ends
	lastErr   error
}

// keys returns the key set, fetching it when there is none yet, it has
// expired, or (forKid not empty) it lacks that key id and may be fetched
// again.
func (j *remoteJWKS) keys(ctx context.Context, clusters map[string]*upstreamCluster, forKid string) (*jose.JSONWebKeySet, error) {
	for {
		j.mu.Lock()
		now := time.Now()
		fresh := j.set != nil && now.Sub(j.fetchedAt) < j.cacheFor
		if fresh && (forKid == "" || len(j.set.Key(forKid)) > 0 || now.Sub(j.fetchedAt) < jwksRefetchInterval) {
			set := j.set
			j.mu.Unlock()
			return set, nil
		}
		if j.fetching == nil {
			j.fetching = make(chan struct{})
			done := j.fetching
			j.mu.Unlock()
			set, err := j.fetch(ctx, clusters)
			j.mu.Lock()
			if err == nil {
				j.set, j.fetchedAt = set, time.Now()
			}
			j.lastErr, j.fetching = err, nil
			close(done)
			j.mu.Unlock()
			if err == nil {
				continue // now fresh
			}
			if set := j.staleSet(); set != nil {
				return set, nil // the keys held are better than none
			}
			return nil, err
		}
		wait := j.fetching
		j.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		j.mu.Lock()
		set, err := j.set, j.lastErr
		j.mu.Unlock()
		if set == nil {
			return nil, err
		}
		return set, nil
	}
}

func (j *remoteJWKS) staleSet() *jose.JSONWebKeySet {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.set
}

// fetch gets the key set through the cluster, as Envoy's remote_jwks does.
func (j *remoteJWKS) fetch(ctx context.Context, clusters map[string]*upstreamCluster) (*jose.JSONWebKeySet, error) {
	cl := clusters[j.cluster]
	if cl == nil {
		return nil, fmt.Errorf("JWKS cluster %q not found", j.cluster)
	}
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.uri.String(), nil)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	resp, err := cl.sideRequest(req, upstream.Body{}, j.uri.RequestURI(), j.uri.Host, deadline)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS %s: %w", j.uri, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching JWKS %s: status %d", j.uri, resp.StatusCode)
	}
	doc, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS %s: %w", j.uri, err)
	}
	if len(doc) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS %s is larger than %d bytes", j.uri, maxJWKSBytes)
	}
	return parseJWKS(doc)
}
