package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// ResourceStatus is what Gluon writes back on a resource it read from
// Kubernetes: Gloo's state, reason and reportedBy, plus standard conditions.
type ResourceStatus struct {
	// State is Accepted, Rejected or Warning.
	State State `json:"state,omitempty"`
	// Reason explains a Rejected or Warning state: its problems, joined.
	Reason string `json:"reason,omitempty"`
	// Problems are why, each with its code and the field it is about.
	Problems []Problem `json:"problems,omitempty"`
	// ReportedBy names the component that wrote this status.
	ReportedBy string `json:"reportedBy,omitempty"`
	// ObservedGeneration is the generation the status describes.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions hold Accepted (and Warning) with reason and message.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// UpstreamStatus adds what discovery found to the common status.
type UpstreamStatus struct {
	ResourceStatus `json:",inline"`
	// Type is the upstream's type (static, aws, azure, kube), for printing.
	Type string `json:"type,omitempty"`
	// Functions is how many functions discovery found on the upstream.
	Functions int32 `json:"functions,omitempty"`
	// FunctionSource says where they came from (a document URL, a region).
	FunctionSource string `json:"functionSource,omitempty"`
}

// FunctionCount is what function discovery found on an upstream, for its
// status.
type FunctionCount struct {
	Functions int32
	Source    string
}

// GetResourceStatus returns the common part of an upstream's status, nil
// when it has none yet.
func (s *UpstreamStatus) GetResourceStatus() *ResourceStatus {
	if s == nil {
		return nil
	}
	return &s.ResourceStatus
}
