package api

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// FaultInjection is Gloo's route fault injection: abort a percentage of
// requests with a status, delay a percentage by a fixed time (delay first,
// as in Envoy).
type FaultInjection struct {
	Abort *FaultAbort `json:"abort,omitempty"`
	Delay *FaultDelay `json:"delay,omitempty"`
}

// FaultAbort answers Percentage % of requests with HTTPStatus.
type FaultAbort struct {
	// Percentage of requests, 0 to 100 (fractions allowed).
	Percentage float64 `json:"percentage"`
	HTTPStatus uint32  `json:"httpStatus"`
}

// FaultDelay holds Percentage % of requests for FixedDelay first.
type FaultDelay struct {
	Percentage float64          `json:"percentage"`
	FixedDelay *metav1.Duration `json:"fixedDelay"`
}

func validateFaults(f *fieldErrors, path string, fi *FaultInjection) {
	if fi == nil {
		return
	}
	if fi.Abort == nil && fi.Delay == nil {
		f.add(path, "injects nothing: set abort or delay")
	}
	if a := fi.Abort; a != nil {
		validatePercentage(f, path+".abort.percentage", a.Percentage)
		if a.HTTPStatus < 200 || a.HTTPStatus > 599 {
			f.add(path+".abort.httpStatus", "%d is not an HTTP status (200-599)", a.HTTPStatus)
		}
	}
	if d := fi.Delay; d != nil {
		validatePercentage(f, path+".delay.percentage", d.Percentage)
		if d.FixedDelay == nil || d.FixedDelay.Duration <= 0 {
			f.add(path+".delay.fixedDelay", "must be a positive duration")
		}
	}
}

func validatePercentage(f *fieldErrors, path string, p float64) {
	if !(p >= 0 && p <= 100) { // NaN fails too
		f.add(path, "%v is not a percentage (0-100)", p)
	}
}
