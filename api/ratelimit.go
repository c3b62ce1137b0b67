package api

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LocalRateLimit is a token bucket kept by each proxy instance (Envoy's
// local_ratelimit): per route, or shared by a virtual host's routes.
type LocalRateLimit struct {
	MaxTokens     uint32          `json:"maxTokens"`
	TokensPerFill uint32          `json:"tokensPerFill,omitempty"`
	FillInterval  metav1.Duration `json:"fillInterval"`
}

// RateLimitOptions hold the actions that turn a request into descriptors
// for the rate-limit service; the limits themselves are in Settings.
type RateLimitOptions struct {
	RateLimits []RateLimitActions `json:"rateLimits"`
}

// RateLimitActions make one descriptor, when every action produces its
// entry (Envoy's semantics).
type RateLimitActions struct {
	Actions []RateLimitAction `json:"actions"`
}

// RateLimitAction is one of Envoy's rate-limit actions, or Gluon's
// destinationFunction: the called function as the entry "function" =
// "<namespace>/<upstream>/<function>".
type RateLimitAction struct {
	RemoteAddress       *Empty                  `json:"remoteAddress,omitempty"`
	RequestHeaders      *RequestHeadersAction   `json:"requestHeaders,omitempty"`
	GenericKey          *GenericKeyAction       `json:"genericKey,omitempty"`
	HeaderValueMatch    *HeaderValueMatchAction `json:"headerValueMatch,omitempty"`
	DestinationFunction *Empty                  `json:"destinationFunction,omitempty"`
}

// RequestHeadersAction puts a request header's value in the descriptor.
type RequestHeadersAction struct {
	HeaderName    string `json:"headerName"`
	DescriptorKey string `json:"descriptorKey"`
	SkipIfAbsent  bool   `json:"skipIfAbsent,omitempty"`
}

// GenericKeyAction adds a fixed entry.
type GenericKeyAction struct {
	DescriptorKey   string `json:"descriptorKey,omitempty"`
	DescriptorValue string `json:"descriptorValue"`
}

// HeaderValueMatchAction adds an entry when headers match (or don't).
type HeaderValueMatchAction struct {
	DescriptorKey   string          `json:"descriptorKey,omitempty"`
	DescriptorValue string          `json:"descriptorValue"`
	ExpectMatch     *bool           `json:"expectMatch,omitempty"`
	Headers         []HeaderMatcher `json:"headers"`
}

// RateLimitSettings configure the built-in rate-limit service: the limits,
// in envoyproxy/ratelimit's descriptor shape, and what the proxies do when
// the service cannot answer.
type RateLimitSettings struct {
	Descriptors []RateLimitDescriptor `json:"descriptors,omitempty"`
	// FailureModeDeny answers 500 when the service is down; by default
	// requests are let through.
	FailureModeDeny bool `json:"failureModeDeny,omitempty"`
	// RequestTimeout bounds each call to the service (default 100ms).
	RequestTimeout *metav1.Duration `json:"requestTimeout,omitempty"`
}

// RateLimitDescriptor is a node of the limits tree: an entry to match
// (an empty value matches any value, each counted apart), a limit, and
// nested descriptors.
type RateLimitDescriptor struct {
	Key       string          `json:"key"`
	Value     string          `json:"value,omitempty"`
	RateLimit *RateLimitValue `json:"rateLimit,omitempty"`
	// Descriptors nest without bound, which a CRD schema cannot say: below
	// the first level the API server keeps them as given, and Gluon's own
	// validation checks them.
	//
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Descriptors []RateLimitDescriptor `json:"descriptors,omitempty"`
}

// RateLimitValue is requests per unit (second, minute, hour, day).
type RateLimitValue struct {
	Unit            string `json:"unit"`
	RequestsPerUnit uint32 `json:"requestsPerUnit"`
}

func validateLocalRateLimit(f *fieldErrors, path string, l *LocalRateLimit) {
	if l == nil {
		return
	}
	if l.MaxTokens == 0 {
		f.add(path+".maxTokens", "must be at least 1")
	}
	if l.FillInterval.Duration < 50*time.Millisecond {
		f.add(path+".fillInterval", "must be at least 50ms, got %s", l.FillInterval.Duration)
	}
}

func validateRateLimitOptions(f *fieldErrors, path string, o *RateLimitOptions) {
	if o == nil {
		return
	}
	for i, rl := range o.RateLimits {
		p := idx(path+".rateLimits", i)
		if len(rl.Actions) == 0 {
			f.add(p+".actions", "at least one action is required")
		}
		for j, a := range rl.Actions {
			validateRateLimitAction(f, idx(p+".actions", j), &a)
		}
	}
}

func validateRateLimitAction(f *fieldErrors, path string, a *RateLimitAction) {
	set := countSet(a.RemoteAddress != nil, a.RequestHeaders != nil, a.GenericKey != nil, a.HeaderValueMatch != nil, a.DestinationFunction != nil)
	if set != 1 {
		f.add(path, "exactly one of remoteAddress, requestHeaders, genericKey, headerValueMatch, destinationFunction is required, got %d", set)
	}
	switch {
	case a.RequestHeaders != nil && (a.RequestHeaders.HeaderName == "" || a.RequestHeaders.DescriptorKey == ""):
		f.add(path+".requestHeaders", "headerName and descriptorKey are required")
	case a.GenericKey != nil && a.GenericKey.DescriptorValue == "":
		f.add(path+".genericKey.descriptorValue", "is required")
	case a.HeaderValueMatch != nil && (a.HeaderValueMatch.DescriptorValue == "" || len(a.HeaderValueMatch.Headers) == 0):
		f.add(path+".headerValueMatch", "descriptorValue and headers are required")
	}
}

var rateLimitUnits = map[string]bool{"second": true, "minute": true, "hour": true, "day": true}

func validateRateLimitSettings(f *fieldErrors, s *RateLimitSettings) {
	if s == nil {
		return
	}
	validateDescriptors(f, "spec.ratelimit.descriptors", s.Descriptors)
	validatePositive(f, "spec.ratelimit.requestTimeout", s.RequestTimeout)
}

func validateDescriptors(f *fieldErrors, path string, ds []RateLimitDescriptor) {
	seen := map[string]bool{}
	for i, d := range ds {
		p := idx(path, i)
		if d.Key == "" {
			f.add(p+".key", "is required")
		}
		if seen[d.Key+"\x00"+d.Value] {
			f.add(p, "key %q value %q is already defined at this level", d.Key, d.Value)
		}
		seen[d.Key+"\x00"+d.Value] = true
		if r := d.RateLimit; r != nil {
			if !rateLimitUnits[r.Unit] {
				f.add(p+".rateLimit.unit", "%q is not one of second, minute, hour, day", r.Unit)
			}
			if r.RequestsPerUnit == 0 {
				f.add(p+".rateLimit.requestsPerUnit", "must be at least 1")
			}
		}
		validateDescriptors(f, fmt.Sprint(p, ".descriptors"), d.Descriptors)
	}
}
