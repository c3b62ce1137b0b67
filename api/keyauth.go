package api

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// APIKeyAuth admits requests that carry a client's API key (Gloo's
// apiKeyAuth): the keys are Secrets of type apiKey, named or selected by
// label, read from a header (default api-key), a query parameter or a
// cookie, and compared in constant time.
type APIKeyAuth struct {
	// Disable turns a virtual host's API key auth off for a route.
	Disable bool `json:"disable,omitempty"`
	// HeaderName, QueryParam and Cookie are where the key may be.
	HeaderName string `json:"headerName,omitempty"`
	QueryParam string `json:"queryParam,omitempty"`
	Cookie     string `json:"cookie,omitempty"`
	// LabelSelector selects the apiKey Secrets in the virtual service's
	// namespace; APIKeySecretRefs name some anywhere.
	LabelSelector    map[string]string `json:"labelSelector,omitempty"`
	APIKeySecretRefs []ResourceRef     `json:"apiKeySecretRefs,omitempty"`
	// ClientIDHeader, when set, tells the upstream (and rate limits) who
	// the client is: the key's metadata client-id, else its Secret's
	// namespace/name.
	ClientIDHeader string `json:"clientIdHeader,omitempty"`
	// KeepCredentials forwards the key upstream; by default it is removed.
	KeepCredentials bool `json:"keepCredentials,omitempty"`
	// HeadersFromMetadataEntry copies the admitted key's metadata to
	// request headers: by header name, the metadata entry (Gloo's shape).
	// What a caller sends in these headers never reaches the upstream.
	HeadersFromMetadataEntry map[string]MetadataHeader `json:"headersFromMetadataEntry,omitempty"`
}

// MetadataHeader names an entry of an API key's metadata.
type MetadataHeader struct {
	Name string `json:"name"`
	// Required refuses (401) the keys whose metadata lacks the entry.
	Required bool `json:"required,omitempty"`
}

// BasicAuth admits requests with the user and password of an htpasswd
// Secret (Authorization: Basic).
type BasicAuth struct {
	// Disable turns a virtual host's basic auth off for a route.
	Disable bool `json:"disable,omitempty"`
	// SecretRef names an htpasswd Secret.
	SecretRef *ResourceRef `json:"secretRef,omitempty"`
	// ForwardUsernameHeader, when set, tells the upstream who the user is.
	ForwardUsernameHeader string `json:"forwardUsernameHeader,omitempty"`
}

func validateAPIKeyAuth(f *fieldErrors, path string, a *APIKeyAuth) {
	if a == nil {
		return
	}
	switch {
	case a.Disable && (len(a.LabelSelector) > 0 || len(a.APIKeySecretRefs) > 0):
		f.add(path, "disable takes no keys")
	case !a.Disable && len(a.LabelSelector) == 0 && len(a.APIKeySecretRefs) == 0:
		f.add(path, "labelSelector or apiKeySecretRefs is required")
	}
	for _, header := range slices.Sorted(maps.Keys(a.HeadersFromMetadataEntry)) {
		p := fmt.Sprintf("%s.headersFromMetadataEntry[%s]", path, header)
		switch {
		case !httpguts.ValidHeaderFieldName(header):
			f.add(p, "%q is not a header name", header)
		case strings.EqualFold(header, a.ClientIDHeader):
			f.add(p, "is the clientIdHeader")
		case a.HeadersFromMetadataEntry[header].Name == "":
			f.add(p+".name", "is required")
		}
	}
}

func validateBasicAuth(f *fieldErrors, path string, b *BasicAuth) {
	if b != nil && b.Disable == (b.SecretRef != nil) {
		f.add(path, "exactly one of secretRef, disable is required")
	}
}

// validateHtpasswd checks each line is user:hash with a hash Gluon can
// check (bcrypt or {SHA}); messages name lines, never hashes.
func validateHtpasswd(f *fieldErrors, path, users string) {
	n := 0
	for i, line := range strings.Split(users, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		user, hash, ok := strings.Cut(line, ":")
		switch {
		case !ok || user == "":
			f.add(path, "line %d is not user:hash", i+1)
		case !strings.HasPrefix(hash, "{SHA}") && !strings.HasPrefix(hash, "$2y$") && !strings.HasPrefix(hash, "$2a$") && !strings.HasPrefix(hash, "$2b$"):
			f.add(path, "line %d (%s): only bcrypt ($2y$, $2a$, $2b$) and {SHA} hashes are supported", i+1, user)
		}
	}
	if n == 0 {
		f.add(path, "no users")
	}
}
