package kubesource

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/gluon-gateway/gluon/api"
)

// The Secret types Gluon reads; any other Secret is none of its business.
const (
	SecretTypeAWS    corev1.SecretType = "gluon.dev/aws"
	SecretTypeAzure  corev1.SecretType = "gluon.dev/azure"
	SecretTypeHeader corev1.SecretType = "gluon.dev/header"
	// An API key Secret holds the key under api-key, and the client's
	// metadata under other keys; an htpasswd Secret, the file under users.
	SecretTypeAPIKey   corev1.SecretType = "gluon.dev/api-key"
	SecretTypeHtpasswd corev1.SecretType = "gluon.dev/htpasswd"
	// TLS secrets are Kubernetes' own type, with its keys (tls.crt,
	// tls.key) and ca.crt for the CAs.
	SecretTypeTLS = corev1.SecretTypeTLS
)

const (
	keyCA       = "ca.crt"
	keyAPIKey   = "api-key"
	keyHtpasswd = "users"
)

// Data keys of an AWS secret (the AWS CLI's names) and of an Azure secret;
// an Azure function key is stored as "apiKey.<function>".
const (
	keyAWSAccessKey    = "aws_access_key_id"
	keyAWSSecretKey    = "aws_secret_access_key"
	keyAWSSessionToken = "aws_session_token"
	keyAzureHost       = "hostKey"
	keyAzureMaster     = "masterKey"
	keyAzureClient     = "clientSecret"
	prefixAzureAPIKey  = "apiKey."
)

// SecretOf converts a Kubernetes Secret of a Gluon type; ok is false for
// other Secrets.
func SecretOf(s *corev1.Secret) (*api.Secret, bool, error) {
	out := &api.Secret{}
	// Labels too: apiKeyAuth selects API key Secrets by label.
	out.Name, out.Namespace, out.Labels = s.Name, s.Namespace, s.Labels
	switch s.Type {
	case SecretTypeAWS:
		out.Spec.AWS = &api.AWSSecret{
			AccessKey:    string(s.Data[keyAWSAccessKey]),
			SecretKey:    string(s.Data[keyAWSSecretKey]),
			SessionToken: string(s.Data[keyAWSSessionToken]),
		}
	case SecretTypeAzure:
		out.Spec.Azure = azureSecretOf(s.Data)
	case SecretTypeTLS:
		out.Spec.TLS = &api.TLSSecret{CertChain: string(s.Data[corev1.TLSCertKey]),
			PrivateKey: string(s.Data[corev1.TLSPrivateKeyKey]), RootCA: string(s.Data[keyCA])}
	case SecretTypeHeader:
		out.Spec.Header = &api.HeaderSecret{Headers: map[string]string{}}
		for k, v := range s.Data {
			out.Spec.Header.Headers[k] = string(v)
		}
	case SecretTypeAPIKey:
		out.Spec.APIKey = &api.APIKeySecret{APIKey: string(s.Data[keyAPIKey])}
		for k, v := range s.Data {
			if k != keyAPIKey {
				if out.Spec.APIKey.Metadata == nil {
					out.Spec.APIKey.Metadata = map[string]string{}
				}
				out.Spec.APIKey.Metadata[k] = string(v)
			}
		}
	case SecretTypeHtpasswd:
		out.Spec.Htpasswd = &api.HtpasswdSecret{Users: string(s.Data[keyHtpasswd])}
	default:
		return nil, false, nil
	}
	if err := out.Validate(); err != nil {
		return nil, true, fmt.Errorf("secret of type %s: %w", s.Type, err)
	}
	return out, true, nil
}

func azureSecretOf(data map[string][]byte) *api.AzureSecret {
	a := &api.AzureSecret{
		HostKey:      string(data[keyAzureHost]),
		MasterKey:    string(data[keyAzureMaster]),
		ClientSecret: string(data[keyAzureClient]),
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if fn, ok := strings.CutPrefix(k, prefixAzureAPIKey); ok {
			if a.APIKeys == nil {
				a.APIKeys = map[string]string{}
			}
			a.APIKeys[fn] = string(data[k])
		}
	}
	return a
}

// KubeSecret is the Kubernetes Secret that holds s, the inverse of SecretOf.
func KubeSecret(s *api.Secret) (*corev1.Secret, error) {
	out := &corev1.Secret{Data: map[string][]byte{}}
	out.Name, out.Namespace, out.Labels, out.Annotations = s.Name, s.Namespace, s.Labels, s.Annotations
	switch {
	case s.Spec.AWS != nil:
		out.Type = SecretTypeAWS
		setData(out.Data, keyAWSAccessKey, s.Spec.AWS.AccessKey)
		setData(out.Data, keyAWSSecretKey, s.Spec.AWS.SecretKey)
		setData(out.Data, keyAWSSessionToken, s.Spec.AWS.SessionToken)
	case s.Spec.Azure != nil:
		out.Type = SecretTypeAzure
		a := s.Spec.Azure
		setData(out.Data, keyAzureHost, a.HostKey)
		setData(out.Data, keyAzureMaster, a.MasterKey)
		setData(out.Data, keyAzureClient, a.ClientSecret)
		for fn, key := range a.APIKeys {
			setData(out.Data, prefixAzureAPIKey+fn, key)
		}
	case s.Spec.TLS != nil:
		out.Type = SecretTypeTLS
		out.Data[corev1.TLSCertKey] = []byte(s.Spec.TLS.CertChain)
		out.Data[corev1.TLSPrivateKeyKey] = []byte(s.Spec.TLS.PrivateKey)
		setData(out.Data, keyCA, s.Spec.TLS.RootCA)
	case s.Spec.Header != nil:
		out.Type = SecretTypeHeader
		for k, v := range s.Spec.Header.Headers {
			out.Data[k] = []byte(v)
		}
	case s.Spec.APIKey != nil:
		out.Type = SecretTypeAPIKey
		for k, v := range s.Spec.APIKey.Metadata {
			out.Data[k] = []byte(v)
		}
		out.Data[keyAPIKey] = []byte(s.Spec.APIKey.APIKey)
	case s.Spec.Htpasswd != nil:
		out.Type = SecretTypeHtpasswd
		out.Data[keyHtpasswd] = []byte(s.Spec.Htpasswd.Users)
	default:
		return nil, fmt.Errorf("secret %s/%s holds no credentials", s.Namespace, s.Name)
	}
	return out, nil
}

func setData(data map[string][]byte, key, value string) {
	if value != "" {
		data[key] = []byte(value)
	}
}
