// Package transcode is JSON ↔ gRPC transcoding as Envoy's
// grpc_json_transcoder does it: HTTP requests are mapped to methods by the
// methods' google.api.http rules, their JSON body, path variables and
// query parameters become the request message (protojson's mapping), and
// the method's answers become JSON again.
package transcode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Options are the transcoder's settings Gluon honours.
type Options struct {
	// IgnoreUnknownQueryParameters passes over query parameters that name
	// no field instead of refusing the request.
	IgnoreUnknownQueryParameters bool
	// StreamNewlineDelimited writes streamed answers one per line instead
	// of as a JSON array.
	StreamNewlineDelimited bool
	// Print options.
	EmitUnpopulated, UseEnumNumbers, UseProtoNames, Indent bool
}

// Transcoder maps requests to the methods of some services.
type Transcoder struct {
	bindings []*Binding
	opts     Options
	marshal  protojson.MarshalOptions
}

// Binding is one HTTP rule of one method.
type Binding struct {
	t      *Transcoder
	verb   string // HTTP method; "*" for a custom rule of kind "*"
	path   *pathTemplate
	body   string // "", "*", or a field
	Method protoreflect.MethodDescriptor
	// CallPath is the gRPC call's :path, "/pkg.Service/Method".
	CallPath string
	// inputs and outputs are cleared messages of the method's types, for
	// reuse: a dynamic message costs three allocations to make.
	inputs, outputs sync.Pool
}

// message takes a cleared message from pool, or makes one of md.
func message(pool *sync.Pool, md protoreflect.MessageDescriptor) *dynamicpb.Message {
	if m, ok := pool.Get().(*dynamicpb.Message); ok {
		return m
	}
	return dynamicpb.NewMessage(md)
}

// release clears m and gives it back to pool.
func release(pool *sync.Pool, m *dynamicpb.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		m.Clear(fd)
		return true
	})
	m.SetUnknown(nil)
	pool.Put(m)
}

// ErrConfig is a descriptor set or rule the transcoder cannot use.
var ErrConfig = errors.New("transcoder config")

// Compile reads a serialised FileDescriptorSet and the HTTP rules of the
// methods of services.
func Compile(descriptors []byte, services []string, opts Options) (*Transcoder, error) {
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(descriptors, set); err != nil {
		return nil, fmt.Errorf("%w: descriptors: %v", ErrConfig, err)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("%w: descriptors: %v", ErrConfig, err)
	}
	// AllowPartial: proto3 has no required fields, and checking for them
	// costs allocations on every message.
	t := &Transcoder{opts: opts, marshal: protojson.MarshalOptions{AllowPartial: true, EmitUnpopulated: opts.EmitUnpopulated,
		UseEnumNumbers: opts.UseEnumNumbers, UseProtoNames: opts.UseProtoNames}}
	if opts.Indent {
		t.marshal.Indent = "  "
	}
	for _, name := range services {
		d, err := files.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil, fmt.Errorf("%w: service %s is not in the descriptors", ErrConfig, name)
		}
		svc, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("%w: %s is not a service", ErrConfig, name)
		}
		for i := 0; i < svc.Methods().Len(); i++ {
			if err := t.addMethod(svc.Methods().Get(i)); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

func (t *Transcoder) addMethod(m protoreflect.MethodDescriptor) error {
	opts, ok := m.Options().(*descriptorpb.MethodOptions)
	if !ok || opts == nil {
		return nil
	}
	rule, ok := proto.GetExtension(opts, annotations.E_Http).(*annotations.HttpRule)
	if !ok || rule == nil || rule.GetPattern() == nil {
		return nil
	}
	for _, r := range append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...) {
		b, err := t.binding(m, r)
		if err != nil {
			return fmt.Errorf("%w: method %s: %v", ErrConfig, m.FullName(), err)
		}
		t.bindings = append(t.bindings, b)
	}
	return nil
}

func (t *Transcoder) binding(m protoreflect.MethodDescriptor, r *annotations.HttpRule) (*Binding, error) {
	var verb, path string
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		verb, path = "GET", p.Get
	case *annotations.HttpRule_Put:
		verb, path = "PUT", p.Put
	case *annotations.HttpRule_Post:
		verb, path = "POST", p.Post
	case *annotations.HttpRule_Delete:
		verb, path = "DELETE", p.Delete
	case *annotations.HttpRule_Patch:
		verb, path = "PATCH", p.Patch
	case *annotations.HttpRule_Custom:
		verb, path = p.Custom.GetKind(), p.Custom.GetPath()
	}
	tpl, err := parseTemplate(path)
	if err != nil {
		return nil, err
	}
	body := r.GetBody()
	if body != "" && body != "*" && m.Input().Fields().ByName(protoreflect.Name(body)) == nil {
		return nil, fmt.Errorf("body field %q is not a field of %s", body, m.Input().FullName())
	}
	return &Binding{t: t, verb: verb, path: tpl, body: body, Method: m,
		CallPath: "/" + string(m.Parent().FullName()) + "/" + string(m.Name())}, nil
}

// Match finds the binding of an HTTP method and path (no query), and the
// path's variables. Rules are tried in order, as declared.
func (t *Transcoder) Match(method, path string) (*Binding, map[string]string, bool) {
	for _, b := range t.bindings {
		if b.verb != method && b.verb != "*" {
			continue
		}
		if vars, ok := b.path.match(path); ok {
			return b, vars, true
		}
	}
	return nil, nil, false
}

// RequestError is a request the transcoder cannot turn into a message:
// the client's fault (400).
type RequestError struct{ Err error }

func (e *RequestError) Error() string { return e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

// Request makes the gRPC request body (length-prefixed messages) from a
// JSON body, the path's variables and the query. A client-streaming
// method takes a JSON array of messages, or one message.
func (b *Binding) Request(body []byte, vars map[string]string, query url.Values) ([]byte, error) {
	bodies := [][]byte{body}
	if b.Method.IsStreamingClient() && b.body != "" {
		var err error
		if bodies, err = splitArray(body); err != nil {
			return nil, &RequestError{err}
		}
	}
	var out []byte
	for _, one := range bodies {
		msg := message(&b.inputs, b.Method.Input())
		if err := b.fill(msg, one, vars, query); err != nil {
			release(&b.inputs, msg)
			return nil, &RequestError{err}
		}
		var err error
		out, err = appendFrame(out, msg)
		release(&b.inputs, msg)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (b *Binding) fill(msg *dynamicpb.Message, body []byte, vars map[string]string, query url.Values) error {
	if err := b.fillBody(msg, body); err != nil {
		return err
	}
	for _, field := range sortedKeys(vars) {
		if err := setField(msg, field, vars[field]); err != nil {
			return fmt.Errorf("path variable %s: %w", field, err)
		}
	}
	for _, name := range sortedKeys(query) {
		if name == "" || b.body == "*" && vars[name] == "" && isSetInBody(msg, name) {
			continue // the body's value wins over a query parameter's
		}
		err := setFields(msg, name, query[name])
		switch {
		case errors.Is(err, errNoField) && b.t.opts.IgnoreUnknownQueryParameters:
		case err != nil:
			return fmt.Errorf("query parameter %s: %w", name, err)
		}
	}
	return nil
}

// fillBody reads the JSON body into the message, or into its body field.
func (b *Binding) fillBody(msg *dynamicpb.Message, body []byte) error {
	if b.body == "" || len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	unmarshal := protojson.UnmarshalOptions{AllowPartial: true}
	if b.body == "*" {
		if err := unmarshal.Unmarshal(body, msg); err != nil {
			return fmt.Errorf("the JSON body is not a %s: %w", msg.Descriptor().FullName(), err)
		}
		return nil
	}
	fd := msg.Descriptor().Fields().ByName(protoreflect.Name(b.body))
	if fd.Message() == nil || fd.IsList() || fd.IsMap() {
		// Wrap a scalar or list body as the field of a JSON object.
		wrapped := append(append([]byte(`{"`+fd.JSONName()+`":`), body...), '}')
		if err := unmarshal.Unmarshal(wrapped, msg); err != nil {
			return fmt.Errorf("the JSON body is not a %s: %w", fd.Name(), err)
		}
		return nil
	}
	sub := msg.Mutable(fd).Message()
	if err := unmarshal.Unmarshal(body, sub.Interface()); err != nil {
		return fmt.Errorf("the JSON body is not a %s: %w", fd.Message().FullName(), err)
	}
	return nil
}

// appendFrame appends msg as one gRPC message: uncompressed flag, length,
// bytes.
func appendFrame(out []byte, msg proto.Message) ([]byte, error) {
	start := len(out)
	out = append(slices.Grow(out, 5+proto.Size(msg)), 0, 0, 0, 0, 0)
	out, err := proto.MarshalOptions{AllowPartial: true}.MarshalAppend(out, msg)
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint32(out[start+1:], uint32(len(out)-start-5))
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	if len(m) == 1 {
		for k := range m {
			return oneKey(k)
		}
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// oneKey is a one-key list without an allocation of its own (the common
// case of one path variable).
func oneKey(k string) []string {
	var one [1]string
	one[0] = k
	return one[:]
}
