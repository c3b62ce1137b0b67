package api

import (
	"errors"
	"fmt"
)

// Code names a kind of problem. Codes are stable: tools, Gateway API
// conditions and tests match on them, never on messages.
type Code string

// The codes Gluon reports.
const (
	// InvalidField: a field fails static validation.
	InvalidField Code = "InvalidField"
	// InvalidDocument: a file or document cannot be read as a resource.
	InvalidDocument Code = "InvalidDocument"
	// DuplicateResource: another file defines the same resource.
	DuplicateResource Code = "DuplicateResource"
	// ServingLastGood: the resource is rejected and its last good version serves.
	ServingLastGood Code = "ServingLastGood"
	// StateNotSaved: the config state could not be saved.
	StateNotSaved Code = "StateNotSaved"
	// UpstreamNotFound: a route or shadowing names an upstream that does not exist.
	UpstreamNotFound Code = "UpstreamNotFound"
	// VirtualServiceNotFound: a gateway names a virtual service that does not exist.
	VirtualServiceNotFound Code = "VirtualServiceNotFound"
	// SecretNotFound: a referenced secret is missing or of the wrong type.
	SecretNotFound Code = "SecretNotFound"
	// FunctionNotFound: a route names a function its upstream does not have.
	FunctionNotFound Code = "FunctionNotFound"
	// DiscoveryFailed: function discovery on an upstream failed.
	DiscoveryFailed Code = "DiscoveryFailed"
	// DiscoveryIncomplete: discovery found functions but skipped parts of
	// the source (a reference it could not resolve).
	DiscoveryIncomplete Code = "DiscoveryIncomplete"
	// InvalidTemplate: a transformation template does not compile.
	InvalidTemplate Code = "InvalidTemplate"
	// InvalidDestination: a route's destination cannot be used as asked.
	InvalidDestination Code = "InvalidDestination"
	// DomainConflict: a domain is already served on the gateway.
	DomainConflict Code = "DomainConflict"
	// BindAddressConflict: another gateway already binds the address.
	BindAddressConflict Code = "BindAddressConflict"
	// ListenerNotServed: a proxy could not serve the gateway's listener.
	ListenerNotServed Code = "ListenerNotServed"
	// InvalidCertificate: a certificate that cannot be served (expired, not
	// yet valid, unreadable) or a server name another chain has.
	InvalidCertificate Code = "InvalidCertificate"
	// InvalidAuth: a route's authentication names what does not exist (a
	// JWT provider, a JWKS upstream); the route answers the invalid-route
	// response rather than serve unauthenticated.
	InvalidAuth Code = "InvalidAuth"
	// RouteShadowed: a route can never match, an earlier one takes its requests.
	RouteShadowed Code = "RouteShadowed"
	// RateLimitIgnored: a rate limit setting cannot be honoured as written.
	RateLimitIgnored Code = "RateLimitIgnored"
	// NotSeen: the resource has no status from Gluon yet.
	NotSeen Code = "NotSeen"
	// NotTranslated: stage 2 could not build what stage 1 accepted; it is
	// left out of the proxy's config.
	NotTranslated Code = "NotTranslated"
)

// Problem is one reason in a report: what kind (Code), about which field
// of the resource (Path, e.g. spec.virtualHost.routes[3].matchers[0]; empty
// for the whole resource), and the message for people.
type Problem struct {
	Code    Code   `json:"code"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	// Related is the path of another field the problem involves (the
	// earlier route that shadows this one), for tools to point at.
	Related string `json:"related,omitempty"`
}

// String is how logs, the CLI and Gloo's status reason show a problem.
func (p Problem) String() string {
	s := string(p.Code) + ": "
	if p.Path != "" {
		s += p.Path + ": "
	}
	s += p.Message
	if p.Related != "" {
		s += " (see " + p.Related + ")"
	}
	return s
}

// Error is an error that knows its code and field path: builders return
// it, and reporters turn it into a Problem.
//
// +kubebuilder:object:generate=false
type Error struct {
	Code Code
	Path string
	Err  error
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an *Error.
func Errorf(code Code, path, format string, args ...any) error {
	return &Error{Code: code, Path: path, Err: fmt.Errorf(format, args...)}
}

// ProblemsOf turns err into problems: one per *Error it joins (errors.Join
// trees are split), with that error's code and path (path is prefixed to
// it when the error's path is relative); any other error is one problem
// with code fallback at path.
func ProblemsOf(err error, fallback Code, path string) []Problem {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []Problem
		for _, e := range joined.Unwrap() {
			out = append(out, ProblemsOf(e, fallback, path)...)
		}
		return out
	}
	var e *Error
	if errors.As(err, &e) {
		return []Problem{{Code: e.Code, Path: joinPath(path, e.Path), Message: e.Err.Error()}}
	}
	return []Problem{{Code: fallback, Path: path, Message: err.Error()}}
}

// joinPath appends a field path to its parent's.
func joinPath(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	}
	return parent + "." + child
}
