package gateway

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// defaultAPIKeyHeader is where a key is read from by default, as Gloo's.
const defaultAPIKeyHeader = "api-key"

// routeAPIKeyAuth is route r's API key auth: its own, else its virtual
// host's. A Secret it names that is missing or no apiKey is an error: the
// route must not serve unauthenticated.
func (t *translation) routeAPIKeyAuth(vs *api.VirtualService, r *api.Route) (*ir.APIKeyAuth, error) {
	a := routeOrHost(vs, r, func(o *api.VirtualHostOptions) *api.APIKeyAuth { return o.APIKeyAuth },
		func(o *api.RouteOptions) *api.APIKeyAuth { return o.APIKeyAuth })
	if a == nil || a.Disable {
		return nil, nil
	}
	out := &ir.APIKeyAuth{Header: a.HeaderName, Query: a.QueryParam, Cookie: a.Cookie, ClientIDHeader: a.ClientIDHeader,
		KeepCredentials: a.KeepCredentials}
	if out.Header == "" && out.Query == "" && out.Cookie == "" {
		out.Header = defaultAPIKeyHeader
	}
	creds, err := t.apiKeySecrets(vs, a)
	if err != nil {
		return nil, err
	}
	for _, c := range creds {
		if err := addCredential(out, c, a.HeadersFromMetadataEntry); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// apiKeyCredential is an apiKey Secret with its name.
type apiKeyCredential struct {
	ref    api.ResourceRef
	secret *api.APIKeySecret
}

// apiKeySecrets are the Secrets a's keys are in, sorted by name: those it
// names and those its labels select in the virtual service's namespace.
func (t *translation) apiKeySecrets(vs *api.VirtualService, a *api.APIKeyAuth) ([]apiKeyCredential, error) {
	var out []apiKeyCredential
	seen := map[api.ResourceRef]bool{}
	for _, ref := range a.APIKeySecretRefs {
		ref = ref.Ref(vs.Namespace)
		s, ok := t.secrets[ref]
		if !ok || s.Spec.APIKey == nil {
			return nil, api.Errorf(api.SecretNotFound, "options.apiKeyAuth.apiKeySecretRefs", "apiKey Secret %s not found", ref)
		}
		if !seen[ref] {
			seen[ref] = true
			out = append(out, apiKeyCredential{ref, s.Spec.APIKey})
		}
	}
	if len(a.LabelSelector) > 0 {
		for ref, s := range t.secrets {
			if selectsAPIKey(a, vs.Namespace, s) && !seen[ref] {
				out = append(out, apiKeyCredential{ref, s.Spec.APIKey})
			}
		}
	}
	slices.SortFunc(out, func(a, b apiKeyCredential) int {
		return cmp.Or(strings.Compare(a.ref.Namespace, b.ref.Namespace), strings.Compare(a.ref.Name, b.ref.Name))
	})
	return out, nil
}

// selectsAPIKey reports whether a's label selector picks Secret s, an
// apiKey Secret of namespace ns.
func selectsAPIKey(a *api.APIKeyAuth, ns string, s *api.Secret) bool {
	return s.Namespace == ns && s.Spec.APIKey != nil && hasLabels(s.Labels, a.LabelSelector)
}

// addCredential admits c's key as its client: its client-id metadata,
// else the Secret's namespace/name; the client's requests get the headers
// of fromMetadata. A key without a required entry is left out (refused).
// Two keys of one client with different headers are an error: which would
// the client's requests carry?
func addCredential(out *ir.APIKeyAuth, c apiKeyCredential, fromMetadata map[string]api.MetadataHeader) error {
	client := c.secret.Metadata["client-id"]
	if client == "" {
		client = c.ref.Namespace + "/" + c.ref.Name
	}
	headers := map[string]string{}
	for header, entry := range fromMetadata {
		v, ok := c.secret.Metadata[entry.Name]
		if !ok && entry.Required {
			return nil
		}
		if ok {
			headers[header] = v
		}
	}
	if len(headers) > 0 {
		if out.ClientHeaders == nil {
			out.ClientHeaders = map[string]map[string]string{}
		}
		if prev, ok := out.ClientHeaders[client]; ok && !maps.Equal(prev, headers) {
			return api.Errorf(api.InvalidAuth, "options.apiKeyAuth.headersFromMetadataEntry",
				"client %s has keys with different metadata (Secret %s is one)", client, c.ref)
		}
		out.ClientHeaders[client] = headers
	}
	out.Credentials = append(out.Credentials, ir.APIKeyCredential{Key: c.secret.APIKey, Client: client})
	return nil
}

// routeBasicAuth is route r's basic auth: its own, else its virtual
// host's; a Secret that is missing or no htpasswd is an error.
func (t *translation) routeBasicAuth(vs *api.VirtualService, r *api.Route) (*ir.BasicAuth, error) {
	b := routeOrHost(vs, r, func(o *api.VirtualHostOptions) *api.BasicAuth { return o.BasicAuth },
		func(o *api.RouteOptions) *api.BasicAuth { return o.BasicAuth })
	if b == nil || b.Disable {
		return nil, nil
	}
	ref := b.SecretRef.Ref(vs.Namespace)
	s, ok := t.secrets[ref]
	if !ok || s.Spec.Htpasswd == nil {
		return nil, api.Errorf(api.SecretNotFound, "options.basicAuth.secretRef", "htpasswd Secret %s not found", ref)
	}
	return &ir.BasicAuth{Users: s.Spec.Htpasswd.Users, ForwardUsernameHeader: b.ForwardUsernameHeader}, nil
}

// routeAuth sets who route r admits: JWT, external authorization, API
// keys, basic auth; the first of them that cannot be built is the error.
func (t *translation) routeAuth(vs *api.VirtualService, r *api.Route, out *ir.Route) error {
	var err error
	if out.JWT, err = jwtRequirement(vs, vs.Namespace+"_"+vs.Name, r); err != nil {
		return err
	}
	if out.ExtAuthz, err = t.routeExtAuthz(vs, r); err != nil {
		return err
	}
	if out.APIKeyAuth, err = t.routeAPIKeyAuth(vs, r); err != nil {
		return err
	}
	out.BasicAuth, err = t.routeBasicAuth(vs, r)
	return err
}

// routeOrHost is a setting of route r: its own (route picks it from the
// route's options), else its virtual host's (host picks it); nil when
// neither has it.
func routeOrHost[T any](vs *api.VirtualService, r *api.Route, host func(*api.VirtualHostOptions) *T, route func(*api.RouteOptions) *T) *T {
	if r.Options != nil {
		if own := route(r.Options); own != nil {
			return own
		}
	}
	if o := vs.Spec.VirtualHost.Options; o != nil {
		return host(o)
	}
	return nil
}
