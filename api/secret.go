package api

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindSecret is a Secret: credentials that upstreams refer to. Its values
// never appear in status, logs or served-config views.
const KindSecret Kind = "Secret"

// Secret holds exactly one kind of credentials. It is no CRD: on Kubernetes
// it is read from a core Secret (see the kube source).
type Secret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              SecretSpec `json:"spec"`
}

// SecretSpec is Gloo's secret shape.
type SecretSpec struct {
	AWS    *AWSSecret    `json:"aws,omitempty"`
	Azure  *AzureSecret  `json:"azure,omitempty"`
	TLS    *TLSSecret    `json:"tls,omitempty"`
	Header *HeaderSecret `json:"header,omitempty"`
	// APIKey is a client's key for apiKeyAuth; Htpasswd, users for basicAuth.
	APIKey   *APIKeySecret   `json:"apiKey,omitempty"`
	Htpasswd *HtpasswdSecret `json:"htpasswd,omitempty"`
	// Vault says the values live in Vault: the control plane reads them
	// there (with --vault-addr), and uses each new version as it comes.
	Vault *VaultSecret `json:"vault,omitempty"`
}

// VaultSecret is a secret in Vault's KV v2 store: at Path ("<mount>/<path
// in it>", e.g. "secret/gluon/aws"), whose data is the secret's spec as
// JSON: {"aws": {"accessKey": …, "secretKey": …}}, {"tls": {…}}, ….
type VaultSecret struct {
	Path string `json:"path"`
}

// APIKeySecret is one client's API key (Gloo's shape), with metadata
// about the client.
type APIKeySecret struct {
	APIKey   string            `json:"apiKey"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// HtpasswdSecret is an htpasswd file: user:hash lines, bcrypt ($2y$, $2a$,
// $2b$) or SHA-1 ({SHA}).
type HtpasswdSecret struct {
	Users string `json:"users"`
}

// TLSSecret is a certificate and key (PEM), and optionally the CAs to trust;
// an upstream's sslConfig.secretRef presents it to the upstream (mTLS).
type TLSSecret struct {
	CertChain  string `json:"certChain"`
	PrivateKey string `json:"privateKey"`
	RootCA     string `json:"rootCa,omitempty"`
}

// HeaderSecret holds headers to add to requests, named by a route's
// headerManipulation through headerSecretRef (API keys, basic auth).
type HeaderSecret struct {
	Headers map[string]string `json:"headers"`
}

// AWSSecret is an access key, optionally with a session token.
type AWSSecret struct {
	AccessKey    string `json:"accessKey"`
	SecretKey    string `json:"secretKey"`
	SessionToken string `json:"sessionToken,omitempty"`
}

// GetObjectKind implements Object.
func (*Secret) ResourceKind() Kind { return KindSecret }

// Validate implements Object. Messages name fields, never values.
func (s *Secret) Validate() error {
	var f fieldErrors
	validateMeta(&f, &s.ObjectMeta)
	types := countSet(s.Spec.AWS != nil, s.Spec.Azure != nil, s.Spec.TLS != nil, s.Spec.Header != nil, s.Spec.APIKey != nil, s.Spec.Htpasswd != nil, s.Spec.Vault != nil)
	switch {
	case types > 1:
		f.add("spec", "only one secret type may be set (aws, azure, tls, header, apiKey, htpasswd, vault)")
	case types == 0:
		f.add("spec", "a secret type is required (aws, azure, tls, header, apiKey, htpasswd, vault)")
	case s.Spec.Vault != nil:
		if mount, path, _ := strings.Cut(s.Spec.Vault.Path, "/"); mount == "" || path == "" {
			f.add("spec.vault.path", "is <mount>/<path>, as secret/gluon/aws")
		}
	case s.Spec.AWS != nil:
		if s.Spec.AWS.AccessKey == "" || s.Spec.AWS.SecretKey == "" {
			f.add("spec.aws", "accessKey and secretKey are required")
		}
	case s.Spec.TLS != nil:
		validateTLSSecret(&f, s.Spec.TLS)
	case s.Spec.Header != nil:
		validateHeaderSecret(&f, s.Spec.Header)
	case s.Spec.APIKey != nil && s.Spec.APIKey.APIKey == "":
		f.add("spec.apiKey.apiKey", "is required")
	case s.Spec.Htpasswd != nil:
		validateHtpasswd(&f, "spec.htpasswd.users", s.Spec.Htpasswd.Users)
	}
	return f.err()
}

// FindSecret is the Secret ref names among secrets, nil if none.
func FindSecret(secrets []*Secret, ref ResourceRef) *Secret {
	for _, s := range secrets {
		if s.Name == ref.Name && s.Namespace == ref.Namespace {
			return s
		}
	}
	return nil
}

// Values returns every secret value the spec holds (not certificates or
// CAs, which are public): what a served-config view must never show.
func (s *SecretSpec) Values() []string {
	var out []string
	add := func(vs ...string) {
		for _, v := range vs {
			if v != "" {
				out = append(out, v)
			}
		}
	}
	if a := s.AWS; a != nil {
		add(a.AccessKey, a.SecretKey, a.SessionToken)
	}
	if a := s.Azure; a != nil {
		add(a.HostKey, a.MasterKey, a.ClientSecret)
		for _, k := range a.APIKeys {
			add(k)
		}
	}
	if t := s.TLS; t != nil {
		add(t.PrivateKey)
	}
	if h := s.Header; h != nil {
		for _, v := range h.Headers {
			add(v)
		}
	}
	if k := s.APIKey; k != nil {
		add(k.APIKey)
	}
	if h := s.Htpasswd; h != nil {
		for line := range strings.Lines(h.Users) {
			if _, hash, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
				add(hash)
			}
		}
	}
	return out
}
