package transcode

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

var errNoField = errors.New("no such field")

// field finds the (possibly nested, "a.b") field path in msg, by proto or
// JSON name; it makes the messages on the way.
func field(msg protoreflect.Message, path string) (protoreflect.Message, protoreflect.FieldDescriptor, error) {
	for path != "" {
		name, rest, nested := strings.Cut(path, ".")
		path = rest
		fd := fieldNamed(msg.Descriptor(), name)
		if fd == nil {
			return nil, nil, fmt.Errorf("%w %q in %s", errNoField, name, msg.Descriptor().FullName())
		}
		if !nested {
			return msg, fd, nil
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() {
			return nil, nil, fmt.Errorf("%q is not a message field", name)
		}
		msg = msg.Mutable(fd).Message()
	}
	return nil, nil, errNoField
}

// fieldNamed is md's field of that proto or JSON name; nil if none.
func fieldNamed(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	if fd := md.Fields().ByName(protoreflect.Name(name)); fd != nil {
		return fd
	}
	return md.Fields().ByJSONName(name)
}

// isSetInBody reports whether the body already set the field. It only
// reads: the messages on a nested path are not made (field would make
// them, and an empty one would then be sent).
func isSetInBody(msg protoreflect.Message, path string) bool {
	for {
		name, rest, nested := strings.Cut(path, ".")
		fd := fieldNamed(msg.Descriptor(), name)
		if fd == nil || !msg.Has(fd) {
			return false
		}
		if !nested {
			return true
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() {
			return false
		}
		msg, path = msg.Get(fd).Message(), rest
	}
}

// setField sets a scalar (or repeated scalar) field from a path
// variable's text.
func setField(msg *dynamicpb.Message, path, value string) error {
	var one [1]string
	one[0] = value
	return setFields(msg, path, one[:])
}

// setFields sets a scalar (or repeated scalar) field from text values, as
// query parameters give them.
func setFields(msg *dynamicpb.Message, path string, values []string) error {
	m, fd, err := field(msg, path)
	if err != nil {
		return err
	}
	if fd.IsMap() || fd.Message() != nil && !isWrapper(fd.Message()) {
		return fmt.Errorf("field %q is a message: give it in the JSON body", path)
	}
	if !fd.IsList() {
		if len(values) > 1 {
			return fmt.Errorf("field %q takes one value, got %d", path, len(values))
		}
		v, err := scalar(fd, values[0])
		if err != nil {
			return fmt.Errorf("field %q: %w", path, err)
		}
		m.Set(fd, v)
		return nil
	}
	list := m.Mutable(fd).List()
	for _, s := range values {
		v, err := scalar(fd, s)
		if err != nil {
			return fmt.Errorf("field %q: %w", path, err)
		}
		list.Append(v)
	}
	return nil
}

// isWrapper: google.protobuf's wrapper messages take their value's text.
func isWrapper(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf" && strings.HasSuffix(string(md.Name()), "Value") && md.Fields().Len() == 1
}

// scalar parses text as the field's kind.
func scalar(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, error) {
	if md := fd.Message(); md != nil { // a wrapper: its one field
		inner, err := scalar(md.Fields().Get(0), s)
		if err != nil {
			return protoreflect.Value{}, err
		}
		w := dynamicpb.NewMessage(md)
		w.Set(md.Fields().Get(0), inner)
		return protoreflect.ValueOfMessage(w), nil
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(s), nil
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(s)
		return protoreflect.ValueOfBool(b), err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := strconv.ParseInt(s, 10, 32)
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := strconv.ParseInt(s, 10, 64)
		return protoreflect.ValueOfInt64(n), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := strconv.ParseUint(s, 10, 32)
		return protoreflect.ValueOfUint32(uint32(n)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := strconv.ParseUint(s, 10, 64)
		return protoreflect.ValueOfUint64(n), err
	case protoreflect.FloatKind:
		f, err := strconv.ParseFloat(s, 32)
		return protoreflect.ValueOfFloat32(float32(f)), err
	case protoreflect.DoubleKind:
		f, err := strconv.ParseFloat(s, 64)
		return protoreflect.ValueOfFloat64(f), err
	case protoreflect.BytesKind:
		b, err := base64.URLEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.StdEncoding.DecodeString(s)
		}
		return protoreflect.ValueOfBytes(b), err
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByName(protoreflect.Name(s)); ev != nil {
			return protoreflect.ValueOfEnum(ev.Number()), nil
		}
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a value of %s", s, fd.Enum().FullName())
		}
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n)), nil
	}
	return protoreflect.Value{}, fmt.Errorf("kind %v cannot be given as text", fd.Kind())
}

// splitArray splits a JSON array into its elements; anything else is one
// message.
func splitArray(body []byte) ([][]byte, error) {
	trimmed := strings.TrimSpace(string(body))
	if !strings.HasPrefix(trimmed, "[") {
		return [][]byte{body}, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(trimmed), &raw); err != nil {
		return nil, fmt.Errorf("the JSON body is not an array of messages: %w", err)
	}
	out := make([][]byte, len(raw))
	for i, r := range raw {
		out[i] = r
	}
	return out, nil
}
