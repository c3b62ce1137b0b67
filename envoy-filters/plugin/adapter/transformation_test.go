package adapter

import (
	"strings"
	"testing"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	"github.com/envoyproxy/envoy/contrib/golang/common/go/api"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/transformationwire"
)

// Fakes embed Envoy's interfaces and implement what the adapter calls; any
// other call panics, which a test would show.
type fakeHeaders struct {
	api.RequestHeaderMap
	m map[string]string
}

func (h *fakeHeaders) Get(k string) (string, bool) { v, ok := h.m[strings.ToLower(k)]; return v, ok }
func (h *fakeHeaders) Set(k, v string)             { h.m[strings.ToLower(k)] = v }
func (h *fakeHeaders) Add(k, v string)             { h.m[strings.ToLower(k)] += "," + v }
func (h *fakeHeaders) Del(k string)                { delete(h.m, strings.ToLower(k)) }
func (h *fakeHeaders) Range(f func(k, v string) bool) {
	for k, v := range h.m {
		if !f(k, v) {
			return
		}
	}
}

type fakeResponseHeaders struct {
	api.ResponseHeaderMap
	fakeHeaders
}

func (h *fakeResponseHeaders) Get(k string) (string, bool)    { return h.fakeHeaders.Get(k) }
func (h *fakeResponseHeaders) Set(k, v string)                { h.fakeHeaders.Set(k, v) }
func (h *fakeResponseHeaders) Add(k, v string)                { h.fakeHeaders.Add(k, v) }
func (h *fakeResponseHeaders) Del(k string)                   { h.fakeHeaders.Del(k) }
func (h *fakeResponseHeaders) Range(f func(k, v string) bool) { h.fakeHeaders.Range(f) }

type fakeBuffer struct {
	api.BufferInstance
	b []byte
}

func (b *fakeBuffer) Bytes() []byte      { return b.b }
func (b *fakeBuffer) Len() int           { return len(b.b) }
func (b *fakeBuffer) Set(p []byte) error { b.b = append([]byte{}, p...); return nil }

type reply struct {
	status  int
	body    string
	headers map[string][]string
}

type fakeCallbacks struct {
	api.FilterCallbackHandler
	replies *[]reply
	added   *[]byte
}

type fakeDecoder struct {
	api.DecoderFilterCallbacks
	replies *[]reply
	added   *[]byte
}

func (d fakeDecoder) AddData(p []byte, _ bool) {
	if d.added != nil {
		*d.added = append(*d.added, p...)
	}
}

type fakeEncoder struct {
	api.EncoderFilterCallbacks
	replies *[]reply
}

// fakeStreamInfo is a client on 192.0.2.7 speaking HTTP/1.1.
type fakeStreamInfo struct{ api.StreamInfo }

func (fakeStreamInfo) DownstreamRemoteAddress() string { return "192.0.2.7:5555" }
func (fakeStreamInfo) Protocol() (string, bool)        { return "HTTP/1.1", true }

func (c fakeCallbacks) StreamInfo() api.StreamInfo { return fakeStreamInfo{} }

func (c fakeCallbacks) DecoderFilterCallbacks() api.DecoderFilterCallbacks {
	return fakeDecoder{replies: c.replies, added: c.added}
}
func (c fakeCallbacks) EncoderFilterCallbacks() api.EncoderFilterCallbacks {
	return fakeEncoder{replies: c.replies}
}
func (d fakeDecoder) SendLocalReply(code int, body string, headers map[string][]string, _ int64, _ string) {
	*d.replies = append(*d.replies, reply{code, body, headers})
}
func (e fakeEncoder) SendLocalReply(code int, body string, headers map[string][]string, _ int64, _ string) {
	*e.replies = append(*e.replies, reply{code, body, headers})
}

func typed(t *testing.T, typeURL, js string) *anypb.Any {
	t.Helper()
	s := &structpb.Struct{}
	if err := protojson.Unmarshal([]byte(js), s); err != nil {
		t.Fatal(err)
	}
	a, err := anypb.New(&xdstypev3.TypedStruct{TypeUrl: typeURL, Value: s})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func filterFor(t *testing.T, routeSpec string) (api.StreamFilter, *[]reply) {
	t.Helper()
	p := TransformationParser{}
	listener, err := p.Parse(typed(t, transformationwire.ListenerType, `{}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	route, err := p.Parse(typed(t, transformationwire.RouteType, routeSpec), nil)
	if err != nil {
		t.Fatal(err)
	}
	replies := &[]reply{}
	return TransformationFactory(p.Merge(listener, route), fakeCallbacks{replies: replies}), replies
}

func TestRequestPathFromHeader(t *testing.T) {
	f, replies := filterFor(t, `{"request": {"headers": {":path": "/api/pets/{{ header(\"x-pet-id\") }}", ":method": "GET"}}}`)
	h := &fakeHeaders{m: map[string]string{":path": "/petstore/findPet", ":method": "POST", "x-pet-id": "2"}}
	if st := f.DecodeHeaders(h, true); st != api.Continue || len(*replies) > 0 {
		t.Fatalf("status %v replies %v", st, *replies)
	}
	if h.m[":path"] != "/api/pets/2" || h.m[":method"] != "GET" {
		t.Fatalf("headers %v", h.m)
	}
}

func TestBodyIsBufferedThenTransformed(t *testing.T) {
	f, _ := filterFor(t, `{"request": {"mergeExtractorsToBody": true, "extractors": {"name": {"header": "x-name", "regex": ".*"}}}}`)
	h := &fakeHeaders{m: map[string]string{":path": "/", "x-name": "Rex"}}
	if st := f.DecodeHeaders(h, false); st != api.StopAndBuffer {
		t.Fatalf("headers: %v", st)
	}
	buf := &fakeBuffer{b: []byte(`{"age": 3}`)}
	if st := f.DecodeData(buf, true); st != api.Continue {
		t.Fatalf("data: %v", st)
	}
	if string(buf.b) != `{"age":3,"name":"Rex"}` || h.m["content-length"] != "22" {
		t.Fatalf("body %s headers %v", buf.b, h.m)
	}
}

func TestResponseStatusAndLocalReply(t *testing.T) {
	f, replies := filterFor(t, `{"response": {"headers": {":status": "202"}, "body": "{{ body()|upper }}"}}`)
	f.DecodeHeaders(&fakeHeaders{m: map[string]string{":path": "/"}}, true)
	rh := &fakeResponseHeaders{fakeHeaders: fakeHeaders{m: map[string]string{":status": "200"}}}
	if st := f.EncodeHeaders(rh, false); st != api.StopAndBuffer {
		t.Fatalf("encode headers: %v", st)
	}
	buf := &fakeBuffer{b: []byte("ok")}
	if st := f.EncodeData(buf, true); st != api.Continue || string(buf.b) != "OK" || rh.m[":status"] != "202" {
		t.Fatalf("%v %q %v", st, buf.b, rh.m)
	}

	strict, replies := filterFor(t, `{"request": {"strictJson": true, "body": "{{ name }}"}}`)
	strict.DecodeHeaders(&fakeHeaders{m: map[string]string{":path": "/"}}, false)
	if st := strict.DecodeData(&fakeBuffer{b: []byte("<xml/>")}, true); st != api.LocalReply || len(*replies) != 1 || (*replies)[0].status != 400 {
		t.Fatalf("%v %v", st, *replies)
	}
}

func TestBadRouteConfigIsRejected(t *testing.T) {
	if _, err := (TransformationParser{}).Parse(typed(t, transformationwire.RouteType, `{"request": {"body": "{% include \"x\" %}"}}`), nil); err == nil {
		t.Fatal("a template with include was accepted")
	}
	if _, err := (TransformationParser{}).Parse(typed(t, "gluon.dev/other", `{}`), nil); err == nil {
		t.Fatal("an unknown config type was accepted")
	}
}

func TestRouteWithoutTransformationPassesThrough(t *testing.T) {
	p := TransformationParser{}
	listener, _ := p.Parse(typed(t, transformationwire.ListenerType, `{}`), nil)
	f := TransformationFactory(listener, fakeCallbacks{replies: &[]reply{}})
	h := &fakeHeaders{m: map[string]string{":path": "/x"}}
	if st := f.DecodeHeaders(h, false); st != api.Continue || h.m[":path"] != "/x" {
		t.Fatalf("%v %v", st, h.m)
	}
}
