package server

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// ProxyURIPrefix starts the path of the URI SAN that names the proxy a
// client certificate may fetch: spiffe://<trust domain>/gluon/proxy/<name>.
const ProxyURIPrefix = "/gluon/proxy/"

// ProxyURI is the URI SAN a certificate for proxy carries.
func ProxyURI(trustDomain, proxy string) *url.URL {
	return &url.URL{Scheme: "spiffe", Host: trustDomain, Path: ProxyURIPrefix + proxy}
}

// ProxiesOf returns the proxies a verified client certificate names.
func ProxiesOf(cert *x509.Certificate) []string {
	var out []string
	for _, u := range cert.URIs {
		if u.Scheme == "spiffe" && strings.HasPrefix(u.Path, ProxyURIPrefix) {
			if name := strings.TrimPrefix(u.Path, ProxyURIPrefix); name != "" && !strings.Contains(name, "/") {
				out = append(out, name)
			}
		}
	}
	return out
}

// nodeAuth binds each stream to the proxies its client certificate names:
// a request whose node asks for another proxy ends the stream with
// PermissionDenied, so one proxy's credentials never reach another's client.
type nodeAuth struct {
	mu      sync.Mutex
	streams map[int64][]string // stream → the proxies it may fetch
}

func newNodeAuth() *nodeAuth { return &nodeAuth{streams: map[int64][]string{}} }

// open records who the stream's peer is; a peer without a verified
// certificate naming a proxy is refused at once.
func (a *nodeAuth) open(ctx context.Context, id int64) error {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return status.Error(codes.Unauthenticated, "no peer")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 {
		return status.Error(codes.Unauthenticated, "a client certificate is required")
	}
	proxies := ProxiesOf(info.State.VerifiedChains[0][0])
	if len(proxies) == 0 {
		return status.Errorf(codes.PermissionDenied, "the client certificate names no proxy (want a URI SAN spiffe://<trust domain>%s<name>)", ProxyURIPrefix)
	}
	a.mu.Lock()
	a.streams[id] = proxies
	a.mu.Unlock()
	return nil
}

// check refuses a request for a proxy the stream's certificate does not name.
func (a *nodeAuth) check(id int64, proxy string) error {
	a.mu.Lock()
	allowed := a.streams[id]
	a.mu.Unlock()
	for _, p := range allowed {
		if p == proxy {
			return nil
		}
	}
	return status.Error(codes.PermissionDenied, fmt.Sprintf("the client certificate does not name proxy %q", proxy))
}

func (a *nodeAuth) closed(id int64) {
	a.mu.Lock()
	delete(a.streams, id)
	a.mu.Unlock()
}
