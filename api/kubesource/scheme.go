// Package kubesource is the Kubernetes config source: it reads Gluon's CRDs,
// Secrets, Services, EndpointSlices, Namespaces and Gateway API objects from
// a controller-runtime cache and turns every change into one api.Snapshot,
// the same thing the file source produces. It also writes status back.
package kubesource

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/gluon-gateway/gluon/api"
)

// NewScheme knows every type the source reads or writes.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for name, add := range map[string]func(*runtime.Scheme) error{
		"core":             clientgoscheme.AddToScheme,
		"gluon":            api.AddToScheme,
		"gateway-api":      gwv1.Install,
		"gateway-api beta": gwv1beta1.Install,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("registering %s types: %w", name, err)
		}
	}
	return s, nil
}
