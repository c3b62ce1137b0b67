package transcode

import (
	"encoding/binary"
	"net/url"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// greeterSet is a descriptor set of a Greeter service with HTTP rules:
// SayHello on POST /v1/hello/{name} (body "*") and GET /v1/hello/{name};
// Hellos, server streaming, on GET /v1/hellos/{name=people/**}.
func greeterSet(t testing.TB) []byte {
	t.Helper()
	str, i32 := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum()
	opt, rep := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	field := func(name string, n int32, typ *descriptorpb.FieldDescriptorProto_Type, label *descriptorpb.FieldDescriptorProto_Label) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: typ, Label: label, JsonName: proto.String(jsonName(name))}
	}
	rule := func(r *annotations.HttpRule) *descriptorpb.MethodOptions {
		o := &descriptorpb.MethodOptions{}
		proto.SetExtension(o, annotations.E_Http, r)
		return o
	}
	file := &descriptorpb.FileDescriptorProto{
		Name: proto.String("greet.proto"), Package: proto.String("greet"), Syntax: proto.String("proto3"),
		Dependency: []string{"google/api/annotations.proto"},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("HelloRequest"), Field: []*descriptorpb.FieldDescriptorProto{
				field("name", 1, str, opt), field("times", 2, i32, opt), field("tags", 3, str, rep)}},
			{Name: proto.String("HelloReply"), Field: []*descriptorpb.FieldDescriptorProto{field("message", 1, str, opt)}},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: proto.String("Greeter"), Method: []*descriptorpb.MethodDescriptorProto{
			{Name: proto.String("SayHello"), InputType: proto.String(".greet.HelloRequest"), OutputType: proto.String(".greet.HelloReply"),
				Options: rule(&annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: "/v1/hello/{name}"}, Body: "*",
					AdditionalBindings: []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Get{Get: "/v1/hello/{name}"}}}})},
			{Name: proto.String("Hellos"), InputType: proto.String(".greet.HelloRequest"), OutputType: proto.String(".greet.HelloReply"),
				ServerStreaming: proto.Bool(true),
				Options:         rule(&annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: "/v1/hellos/{name=people/**}"}})},
		}}},
	}
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{file}}
	for _, dep := range []protoreflect.FileDescriptor{annotations.File_google_api_annotations_proto, annotations.File_google_api_http_proto, descriptorpb.File_google_protobuf_descriptor_proto} {
		set.File = append([]*descriptorpb.FileDescriptorProto{protodescOf(dep)}, set.File...)
	}
	raw, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func jsonName(s string) string { return s } // the test's names are one word

// replyFrame is a HelloReply as one gRPC message.
func replyFrame(t testing.TB, tr *Transcoder, msg string) []byte {
	b, _, _ := tr.Match("GET", "/v1/hello/x")
	m := dynamicpb.NewMessage(b.Method.Output())
	m.Set(m.Descriptor().Fields().ByName("message"), protoreflect.ValueOfString(msg))
	out, err := appendFrame(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compile(t testing.TB, opts Options) *Transcoder {
	t.Helper()
	tr, err := Compile(greeterSet(t), []string{"greet.Greeter"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// decodeRequest decodes the single HelloRequest of a request body.
func decodeRequest(t *testing.T, b *Binding, frames []byte) *dynamicpb.Message {
	t.Helper()
	if len(frames) < 5 || int(binary.BigEndian.Uint32(frames[1:5])) != len(frames)-5 {
		t.Fatalf("not one framed message: %x", frames)
	}
	m := dynamicpb.NewMessage(b.Method.Input())
	if err := proto.Unmarshal(frames[5:], m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRequests(t *testing.T) {
	tr := compile(t, Options{})
	cases := []struct {
		method, path, query, body string
		want                      string // the request message in text form
		rpc                       string
	}{
		{"POST", "/v1/hello/ann", "", `{"times": 2}`, `name:"ann" times:2`, "/greet.Greeter/SayHello"},
		{"GET", "/v1/hello/b%20c", "times=3&tags=x&tags=y", "", `name:"b c" times:3 tags:"x" tags:"y"`, "/greet.Greeter/SayHello"},
		{"GET", "/v1/hellos/people/sam/ann", "", "", `name:"people/sam/ann"`, "/greet.Greeter/Hellos"},
		{"POST", "/v1/hello/ann", "times=9", `{"times": 2}`, `name:"ann" times:2`, "/greet.Greeter/SayHello"}, // the body wins
	}
	for _, c := range cases {
		b, vars, ok := tr.Match(c.method, c.path)
		if !ok || b.CallPath != c.rpc {
			t.Fatalf("%s %s: matched %v", c.method, c.path, ok)
		}
		q, _ := url.ParseQuery(c.query)
		frames, err := b.Request([]byte(c.body), vars, q)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		if got := strings.Join(strings.Fields(decodeRequest(t, b, frames).String()), " "); got != c.want {
			t.Errorf("%s %s?%s %s: %s, want %s", c.method, c.path, c.query, c.body, got, c.want)
		}
	}
	for _, miss := range [][2]string{{"DELETE", "/v1/hello/a"}, {"GET", "/v1/hello/a/b"}, {"GET", "/v1/hellos"}} {
		if _, _, ok := tr.Match(miss[0], miss[1]); ok {
			t.Errorf("%s %s matched", miss[0], miss[1])
		}
	}
	b, vars, _ := tr.Match("POST", "/v1/hello/a")
	for body, want := range map[string]string{`{"times": "many"}`: "not a greet.HelloRequest", `{"nope": 1}`: "nope", `{"times": 1`: "HelloRequest"} {
		if _, err := b.Request([]byte(body), vars, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("body %s: %v, want an error naming %q", body, err, want)
		}
	}
	if _, err := b.Request(nil, vars, url.Values{"nosuch": {"1"}}); err == nil {
		t.Error("an unknown query parameter was accepted")
	}
	lenient := compile(t, Options{IgnoreUnknownQueryParameters: true})
	lb, lvars, _ := lenient.Match("POST", "/v1/hello/a")
	if _, err := lb.Request(nil, lvars, url.Values{"nosuch": {"1"}}); err != nil {
		t.Errorf("ignore_unknown_query_parameters: %v", err)
	}
}

func TestResponses(t *testing.T) {
	tr := compile(t, Options{})
	b, _, _ := tr.Match("POST", "/v1/hello/a")
	r := b.NewResponse()
	frame := replyFrame(t, tr, "hi")
	// Fed in two pieces, split inside the message.
	out1, err := r.Feed(frame[:3])
	if err != nil || len(out1) != 0 {
		t.Fatalf("first piece: %q %v", out1, err)
	}
	out2, err := r.Feed(frame[3:])
	tail, ferr := r.Finish()
	if err != nil || ferr != nil || string(out2)+string(tail) != `{"message":"hi"}` {
		t.Fatalf("unary: %q%q %v %v", out2, tail, err, ferr)
	}

	s, _, _ := tr.Match("GET", "/v1/hellos/people/a")
	sr := s.NewResponse()
	var all []byte
	for _, m := range []string{"a", "b", "c"} {
		out, err := sr.Feed(replyFrame(t, tr, m))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out...)
	}
	tail, _ = sr.Finish()
	if got := string(all) + string(tail); got != `[{"message":"a"},{"message":"b"},{"message":"c"}]` {
		t.Fatalf("stream: %s", got)
	}
	empty := s.NewResponse()
	if tail, _ := empty.Finish(); string(tail) != "[]" {
		t.Fatalf("empty stream: %s", tail)
	}
	nd := compile(t, Options{StreamNewlineDelimited: true})
	ns, _, _ := nd.Match("GET", "/v1/hellos/people/a")
	nr := ns.NewResponse()
	out, _ := nr.Feed(append(replyFrame(t, nd, "a"), replyFrame(t, nd, "b")...))
	if string(out) != "{\"message\":\"a\"}\n{\"message\":\"b\"}\n" {
		t.Fatalf("newline delimited: %q", out)
	}
	if _, err := b.NewResponse().Feed([]byte{1, 0, 0, 0, 1, 0}); err == nil {
		t.Error("a compressed message was accepted")
	}
	if _, err := b.NewResponse().Finish(); err != nil {
		t.Errorf("unary without a message: %v", err)
	}
	if got := string(StatusJSON(5, "no such pet", "")); got != `{"code":5,"message":"no such pet"}` {
		t.Errorf("status JSON: %s", got)
	}
}

func TestCompileRefusals(t *testing.T) {
	if _, err := Compile([]byte("junk"), nil, Options{}); err == nil {
		t.Error("junk descriptors compiled")
	}
	if _, err := Compile(greeterSet(t), []string{"greet.Nope"}, Options{}); err == nil || !strings.Contains(err.Error(), "greet.Nope") {
		t.Errorf("an unknown service: %v", err)
	}
	for _, bad := range []string{"v1/x", "/a/{unclosed", "/a/**/b", "/a//b"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("template %q parsed", bad)
		}
	}
}

// BenchmarkTranscodeUnary is what transcoding adds to a small unary call:
// matching the rule, JSON to the request message, the answer to JSON.
func BenchmarkTranscodeUnary(b *testing.B) {
	tr := compile(b, Options{})
	frame := replyFrame(b, tr, "Hello, x")
	body := []byte(`{"times":2}`)
	b.ReportAllocs()
	for b.Loop() {
		bind, vars, ok := tr.Match("POST", "/v1/hello/x")
		if !ok {
			b.Fatal("no match")
		}
		if _, err := bind.Request(body, vars, nil); err != nil {
			b.Fatal(err)
		}
		r := bind.NewResponse()
		if _, err := r.Feed(frame); err != nil {
			b.Fatal(err)
		}
		if _, err := r.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzTranscode: no JSON body, query or answer bytes panic the transcoder,
// and a body it accepts round-trips: its message printed as JSON reads
// back as the same message.
func FuzzTranscode(f *testing.F) {
	tr := compile(f, Options{IgnoreUnknownQueryParameters: true})
	f.Add(`{"name":"a","times":3,"tags":["x"]}`, "times=2", []byte{0, 0, 0, 0, 3, 10, 1, 'x'})
	f.Add(`[`, "tags=%zz", []byte{0, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, body, query string, answer []byte) {
		b, vars, _ := tr.Match("POST", "/v1/hello/n")
		q, _ := url.ParseQuery(query)
		frames, err := b.Request([]byte(body), vars, q)
		if err == nil {
			in := dynamicpb.NewMessage(b.Method.Input())
			if err := proto.Unmarshal(frames[5:], in); err != nil {
				t.Fatalf("the request made does not decode: %v", err)
			}
			js, err := tr.marshal.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			back, err := b.Request(js, map[string]string{"name": "n"}, nil)
			if err != nil || !proto.Equal(decodeFuzz(t, b, back), in) {
				t.Fatalf("%s does not round-trip: %v", js, err)
			}
		}
		r := b.NewResponse()
		if _, err := r.Feed(answer); err == nil {
			_, _ = r.Finish()
		}
	})
}

func decodeFuzz(t *testing.T, b *Binding, frames []byte) *dynamicpb.Message {
	m := dynamicpb.NewMessage(b.Method.Input())
	if err := proto.Unmarshal(frames[5:], m); err != nil {
		t.Fatal(err)
	}
	return m
}

func protodescOf(fd protoreflect.FileDescriptor) *descriptorpb.FileDescriptorProto {
	return protodesc.ToFileDescriptorProto(fd)
}
