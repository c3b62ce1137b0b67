package transformation

import (
	"strings"
	"testing"
)

// headers is a fake header map, as the Envoy adapter and the data plane
// present theirs.
type headers map[string]string

func (h headers) Get(k string) (string, bool) { v, ok := h[strings.ToLower(k)]; return v, ok }
func (h headers) Set(k, v string)             { h[strings.ToLower(k)] = v }
func (h headers) Add(k, v string)             { h[strings.ToLower(k)] += "," + v }
func (h headers) Del(k string)                { delete(h, strings.ToLower(k)) }

func TestRequestAndResponse(t *testing.T) {
	t.Setenv("GLUON_TEST_REGION", "eu")
	f, err := NewFilter([]byte(`{"allowedEnv": ["GLUON_TEST_REGION"]}`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.CompileRoute([]byte(`{
		"request": {"headers": {":path": "/api/pets/{{ header(\"x-pet-id\") }}", "x-region": "{{ env(\"GLUON_TEST_REGION\") }}"}},
		"response": {"headers": {":status": "201"}, "body": "{\"pet\": {{ body() }}, \"asked\": \"{{ request_header(\"x-pet-id\") }}\"}"}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := r.NewStream()
	// env() is not a plain lookup, so the request is buffered too (a
	// pongo2 template may read body fields).
	if !s.RequestNeedsBody() || !s.ResponseNeedsBody() {
		t.Fatal("body needs")
	}
	req := headers{":path": "/petstore/findPet", "x-pet-id": "2"}
	if _, _, reply := s.OnRequest(req, nil); reply != nil || req[":path"] != "/api/pets/2" || req["x-region"] != "eu" {
		t.Fatalf("%v %v", reply, req)
	}
	resp := headers{":status": "200", "content-length": "11"}
	body, changed, reply := s.OnResponse(resp, []byte(`{"id": 2}`))
	if reply != nil || !changed || string(body) != `{"pet": {"id": 2}, "asked": "2"}` || resp[":status"] != "201" || resp["content-length"] != "32" {
		t.Fatalf("%v %q %v", reply, body, resp)
	}
}

func TestBadConfigAndFailedRender(t *testing.T) {
	f, _ := NewFilter(nil)
	if _, err := f.CompileRoute([]byte(`{"request": {"body": "{% include \"x\" %}"}}`)); err == nil {
		t.Fatal("include compiled")
	}
	if _, err := f.CompileRoute([]byte(`not json`)); err == nil {
		t.Fatal("bad json accepted")
	}
	r, _ := f.CompileRoute([]byte(`{"request": {"strictJson": true, "body": "{{ name }}"}}`))
	_, _, reply := r.NewStream().OnRequest(headers{}, []byte("<xml>"))
	if reply == nil || reply.Status != 400 {
		t.Fatalf("reply %+v", reply)
	}
	var none *Route
	if _, changed, reply := none.NewStream().OnRequest(headers{}, nil); changed || reply != nil {
		t.Fatal("a route with no transformation changed something")
	}
}
