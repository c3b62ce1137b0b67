package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	AWS   *AWSSecret   `json:"aws,omitempty"`
	Azure *AzureSecret `json:"azure,omitempty"`
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
	switch {
	case s.Spec.AWS != nil && s.Spec.Azure != nil:
		f.add("spec", "only one secret type may be set (aws, azure)")
	case s.Spec.AWS != nil:
		if s.Spec.AWS.AccessKey == "" || s.Spec.AWS.SecretKey == "" {
			f.add("spec.aws", "accessKey and secretKey are required")
		}
	case s.Spec.Azure == nil:
		f.add("spec", "a secret type is required (aws, azure)")
	}
	return f.err()
}
