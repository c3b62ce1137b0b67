package dataplane

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// descriptorEntry is one key/value of a rate-limit descriptor.
type descriptorEntry struct{ key, value string }

// descriptorAction is a compiled RateLimit.Action. It returns the entry it
// contributes (key "" for none) and whether the descriptor is still
// produced: as in Envoy, one action failing drops the whole descriptor.
type descriptorAction func(r *http.Request, target string) (descriptorEntry, bool)

// rateLimitPolicy is a compiled route.v3.RateLimit: one descriptor per request
// when all its actions succeed.
type rateLimitPolicy struct {
	stage   uint32
	actions []descriptorAction
}

func compileRateLimits(rls []*route.RateLimit) ([]*rateLimitPolicy, error) {
	var out []*rateLimitPolicy
	for i, rl := range rls {
		p, err := compileRateLimit(rl)
		if err != nil {
			return nil, fmt.Errorf("rate_limits %d: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func compileRateLimit(rl *route.RateLimit) (*rateLimitPolicy, error) {
	if err := onlyFields(rl, "stage", "actions"); err != nil {
		return nil, err
	}
	p := &rateLimitPolicy{stage: rl.GetStage().GetValue()}
	for i, a := range rl.GetActions() {
		act, err := compileDescriptorAction(a)
		if err != nil {
			return nil, fmt.Errorf("action %d: %w", i, err)
		}
		p.actions = append(p.actions, act)
	}
	return p, nil
}

func compileDescriptorAction(a *route.RateLimit_Action) (descriptorAction, error) {
	switch s := a.GetActionSpecifier().(type) {
	case *route.RateLimit_Action_RemoteAddress_:
		return remoteAddressAction, nil
	case *route.RateLimit_Action_GenericKey_:
		if err := onlyFields(s.GenericKey, "descriptor_value", "descriptor_key"); err != nil {
			return nil, err
		}
		e := descriptorEntry{key: cmp.Or(s.GenericKey.GetDescriptorKey(), "generic_key"), value: s.GenericKey.GetDescriptorValue()}
		return func(*http.Request, string) (descriptorEntry, bool) { return e, true }, nil
	case *route.RateLimit_Action_RequestHeaders_:
		return compileRequestHeadersAction(s.RequestHeaders)
	case *route.RateLimit_Action_HeaderValueMatch_:
		return compileHeaderValueMatchAction(s.HeaderValueMatch)
	}
	return nil, fmt.Errorf("rate limit action %s is not supported by the Gluon data plane (remote_address, request_headers, generic_key, header_value_match)",
		actionName(a))
}

// actionName names the populated action field, for the NACK message.
func actionName(a *route.RateLimit_Action) string {
	var name string
	a.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		name = string(fd.Name())
		return false
	})
	if name == "" {
		return "(none)"
	}
	return name
}

// remoteAddressAction is the downstream peer's IP: with use_remote_address
// (which the data plane requires) and no trusted hops, that is Envoy's
// downstream remote address, X-Forwarded-For notwithstanding.
func remoteAddressAction(r *http.Request, _ string) (descriptorEntry, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || net.ParseIP(host) == nil {
		return descriptorEntry{}, false
	}
	return descriptorEntry{key: "remote_address", value: host}, true
}

// compileRequestHeadersAction: an absent header drops the descriptor unless
// skip_if_absent, which instead leaves the entry out, as Envoy does.
func compileRequestHeadersAction(rh *route.RateLimit_Action_RequestHeaders) (descriptorAction, error) {
	if err := onlyFields(rh, "header_name", "descriptor_key", "skip_if_absent"); err != nil {
		return nil, err
	}
	get, err := headerGetter(rh.GetHeaderName())
	if err != nil {
		return nil, err
	}
	key, skip := rh.GetDescriptorKey(), rh.GetSkipIfAbsent()
	return func(r *http.Request, target string) (descriptorEntry, bool) {
		v, ok := get(r, target)
		if !ok {
			return descriptorEntry{}, skip
		}
		return descriptorEntry{key: key, value: v}, true
	}, nil
}

// headerGetter reads a request header, pseudo-headers included, by its
// first value as Envoy's header map does.
func headerGetter(name string) (func(r *http.Request, target string) (string, bool), error) {
	switch n := strings.ToLower(name); n {
	case ":authority", "host":
		return func(r *http.Request, _ string) (string, bool) { return r.Host, true }, nil
	case ":method":
		return func(r *http.Request, _ string) (string, bool) { return r.Method, true }, nil
	case ":path":
		return func(_ *http.Request, target string) (string, bool) { return target, true }, nil
	case ":scheme":
		return func(*http.Request, string) (string, bool) { return "http", true }, nil
	default:
		if strings.HasPrefix(n, ":") {
			return nil, fmt.Errorf("header %q is not supported", name)
		}
		key := http.CanonicalHeaderKey(n)
		return func(r *http.Request, _ string) (string, bool) {
			if vs := r.Header[key]; len(vs) > 0 {
				return vs[0], true
			}
			return "", false
		}, nil
	}
}

func compileHeaderValueMatchAction(hv *route.RateLimit_Action_HeaderValueMatch) (descriptorAction, error) {
	if err := onlyFields(hv, "descriptor_key", "descriptor_value", "expect_match", "headers"); err != nil {
		return nil, err
	}
	if len(hv.GetHeaders()) == 0 {
		return nil, errors.New("header_value_match: headers is empty")
	}
	matchers := make([]headerMatcher, len(hv.GetHeaders()))
	for i, h := range hv.GetHeaders() {
		m, err := compileHeaderMatcher(h)
		if err != nil {
			return nil, fmt.Errorf("header_value_match: %w", err)
		}
		matchers[i] = m
	}
	expect := hv.GetExpectMatch() == nil || hv.GetExpectMatch().GetValue()
	e := descriptorEntry{key: cmp.Or(hv.GetDescriptorKey(), "header_match"), value: hv.GetDescriptorValue()}
	return func(r *http.Request, target string) (descriptorEntry, bool) {
		all := true
		for i := range matchers {
			if !matchers[i].match(r, target) {
				all = false
				break
			}
		}
		return e, all == expect
	}, nil
}

// populateDescriptors produces the descriptors of the policies for one request. As
// in Envoy, a descriptor whose entries all came out empty is still sent.
func populateDescriptors(policies []*rateLimitPolicy, r *http.Request, target string) [][]descriptorEntry {
	var out [][]descriptorEntry
	for _, p := range policies {
		var d []descriptorEntry
		ok := true
		for _, act := range p.actions {
			var e descriptorEntry
			if e, ok = act(r, target); !ok {
				break
			}
			if e.key != "" {
				d = append(d, e)
			}
		}
		if ok {
			out = append(out, d)
		}
	}
	return out
}
