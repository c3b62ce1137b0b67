package gateway

import (
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// condition builds a status condition. LastTransitionTime stays zero: the
// status writer knows whether the condition changed, the translator does not.
func condition[T, R ~string](typ T, ok bool, reason R, message string, generation int64) metav1.Condition {
	status := metav1.ConditionTrue
	if !ok {
		status = metav1.ConditionFalse
	}
	return metav1.Condition{Type: string(typ), Status: status, Reason: string(reason), Message: message, ObservedGeneration: generation}
}

// sortedConditions orders conditions by type, so that status is the same
// whatever order they were found in.
func sortedConditions(c ...metav1.Condition) []metav1.Condition {
	sort.Slice(c, func(i, j int) bool { return c[i].Type < c[j].Type })
	return c
}
