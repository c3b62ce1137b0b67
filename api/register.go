// +kubebuilder:object:generate=true
// +groupName=gluon.dev
// +versionName=v1

package api

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of Gluon's CRDs.
var GroupVersion = schema.GroupVersion{Group: Group, Version: Version}

// AddToScheme registers Gluon's CRD types, so Kubernetes clients can read and
// write them.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&Upstream{}, &UpstreamList{},
		&VirtualService{}, &VirtualServiceList{},
		&Gateway{}, &GatewayList{},
		&Settings{}, &SettingsList{},
		&RouteOption{}, &RouteOptionList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
