package dataplane

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/gluon-gateway/gluon/dataplane/internal/h1"
)

// headerAction is Envoy's HeaderValueOption.append_action.
type headerAction uint8

const (
	appendIfExistsOrAdd headerAction = iota
	addIfAbsent
	overwriteIfExistsOrAdd
	overwriteIfExists
)

type headerOp struct {
	key    string // canonical MIME key
	value  string
	action headerAction
}

// headerMutation is one level (route, virtual host or route configuration) of
// request_headers_to_add/remove or response_headers_to_add/remove.
type headerMutation struct {
	remove []string // canonical MIME keys
	add    []headerOp
}

// apply removes then adds, as Envoy's HeaderParser does within one level.
func (m *headerMutation) apply(h http.Header) {
	if m == nil {
		return
	}
	for _, k := range m.remove {
		delete(h, k)
	}
	for i := range m.add {
		op := &m.add[i]
		switch op.action {
		case appendIfExistsOrAdd:
			h[op.key] = append(h[op.key], op.value)
		case addIfAbsent:
			if len(h[op.key]) == 0 {
				h[op.key] = []string{op.value}
			}
		case overwriteIfExistsOrAdd:
			h[op.key] = []string{op.value}
		case overwriteIfExists:
			if len(h[op.key]) > 0 {
				h[op.key] = []string{op.value}
			}
		}
	}
}

// compileHeaderMutation compiles one level; it returns nil when the level is empty
// so that the hot path skips it with a nil check.
func compileHeaderMutation(add []*core.HeaderValueOption, remove []string) (*headerMutation, error) {
	if len(add) == 0 && len(remove) == 0 {
		return nil, nil
	}
	m := &headerMutation{}
	for _, name := range remove {
		if err := checkMutableHeader(name); err != nil {
			return nil, fmt.Errorf("headers_to_remove: %w", err)
		}
		m.remove = append(m.remove, http.CanonicalHeaderKey(name))
	}
	for _, opt := range add {
		op, keep, err := compileHeaderOp(opt)
		if err != nil {
			return nil, fmt.Errorf("headers_to_add: %w", err)
		}
		if keep {
			m.add = append(m.add, op)
		}
	}
	return m, nil
}

// compileHeaderOp returns keep=false for an empty value without keep_empty_value:
// Envoy drops such headers.
func compileHeaderOp(opt *core.HeaderValueOption) (headerOp, bool, error) {
	if err := onlyFields(opt, "header", "append", "append_action", "keep_empty_value"); err != nil {
		return headerOp{}, false, err
	}
	hv := opt.GetHeader()
	if err := onlyFields(hv, "key", "value", "raw_value"); err != nil {
		return headerOp{}, false, err
	}
	if err := checkMutableHeader(hv.GetKey()); err != nil {
		return headerOp{}, false, err
	}
	raw := hv.GetValue()
	if len(hv.GetRawValue()) > 0 {
		raw = string(hv.GetRawValue())
	}
	value, err := unescapeHeaderValue(raw)
	if err != nil {
		return headerOp{}, false, fmt.Errorf("header %q: %w", hv.GetKey(), err)
	}
	op := headerOp{key: http.CanonicalHeaderKey(hv.GetKey()), value: value}
	switch {
	case opt.GetAppend() != nil && opt.GetAppendAction() != core.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
		return headerOp{}, false, fmt.Errorf("header %q: append and append_action are mutually exclusive", hv.GetKey())
	case opt.GetAppend() != nil && !opt.GetAppend().GetValue():
		op.action = overwriteIfExistsOrAdd
	default:
		switch opt.GetAppendAction() {
		case core.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
			op.action = appendIfExistsOrAdd
		case core.HeaderValueOption_ADD_IF_ABSENT:
			op.action = addIfAbsent
		case core.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			op.action = overwriteIfExistsOrAdd
		case core.HeaderValueOption_OVERWRITE_IF_EXISTS:
			op.action = overwriteIfExists
		default:
			return headerOp{}, false, fmt.Errorf("header %q: unknown append_action %v", hv.GetKey(), opt.GetAppendAction())
		}
	}
	return op, value != "" || opt.GetKeepEmptyValue(), nil
}

// checkMutableHeader rejects pseudo-headers and Host, which Envoy does not let
// header mutations touch (and which are not part of Go's header map).
func checkMutableHeader(name string) error {
	switch {
	case name == "":
		return errors.New("empty header name")
	case strings.HasPrefix(name, ":"), strings.EqualFold(name, "host"):
		return fmt.Errorf("header %q cannot be modified", name)
	}
	return nil
}

// unescapeHeaderValue turns Envoy's "%%" escape into "%". Any other '%' starts a
// substitution formatter (%DOWNSTREAM_REMOTE_ADDRESS% ...), which we do not
// implement, so the value is rejected rather than sent literally.
func unescapeHeaderValue(v string) (string, error) {
	if !strings.Contains(v, "%") {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 < len(v) && v[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		return "", fmt.Errorf("value %q uses a substitution formatter, which is not supported", v)
	}
	return b.String(), nil
}

// removeHopByHop deletes the connection-specific headers a proxy must not
// forward (RFC 9110 §7.6.1), keeping "TE: trailers" which gRPC relies on.
func removeHopByHop(h http.Header) {
	for name := range h1.ListedNames(h["Connection"]) {
		delete(h, name)
	}
	delete(h, "Connection")
	delete(h, "Keep-Alive")
	delete(h, "Proxy-Connection")
	delete(h, "Transfer-Encoding")
	delete(h, "Upgrade")
	if te, ok := h["Te"]; ok {
		if h1.ContainsToken(te, "trailers") {
			h["Te"] = teTrailers
		} else {
			delete(h, "Te")
		}
	}
}

// Shared read-only header values: assigning them avoids a per-request slice.
// They are never written in place; appends copy because len == cap.
var (
	teTrailers = []string{"trailers"}
	protoHTTP  = []string{"http"}
	protoHTTPS = []string{"https"}
)
