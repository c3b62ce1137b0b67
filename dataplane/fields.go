package dataplane

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// onlyFields returns an error naming every populated field of m that is not in
// allowed. The data plane implements a subset of Envoy; a field outside that
// subset changes semantics we do not honour, so the resource must be NACKed
// rather than silently served differently from Envoy. Unknown fields (a newer
// API than ours) are rejected for the same reason.
func onlyFields(m proto.Message, allowed ...string) error {
	r := m.ProtoReflect()
	var bad []string
	r.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !slices.Contains(allowed, string(fd.Name())) {
			bad = append(bad, string(fd.Name()))
		}
		return true
	})
	if len(r.GetUnknown()) > 0 {
		bad = append(bad, "<unknown fields>")
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return fmt.Errorf("%s: unsupported field(s) %s", r.Descriptor().Name(), strings.Join(bad, ", "))
}
