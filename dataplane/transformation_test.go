package dataplane

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	xdstype "github.com/cncf/xds/go/xds/type/v3"
	golangv3alpha "github.com/envoyproxy/go-control-plane/contrib/envoy/extensions/filters/http/golang/v3alpha"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/transformationwire"
)

// Builders for Gluon's golang filter plugins, shaped exactly like what the
// control plane emits.

// typedStruct wraps a JSON object as an xds.type.v3.TypedStruct.
func typedStruct(t testing.TB, typeURL, js string) *anypb.Any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	v, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return mustAny(t, &xdstype.TypedStruct{TypeUrl: typeURL, Value: v})
}

// pluginFilter is the HTTP filter running a Gluon plugin, named after it.
func pluginFilter(t testing.TB, plugin, listenerType, configJSON string) *hcmv3.HttpFilter {
	cfg := &golangv3alpha.Config{
		LibraryId: "gluon", LibraryPath: "/usr/lib/gluon/filters.so", PluginName: plugin,
		PluginConfig: typedStruct(t, listenerType, configJSON),
	}
	return &hcmv3.HttpFilter{Name: plugin, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, cfg)}}
}

// transformationHTTPFilter lets templates read GLUON_DP_TEST_REGION with env().
func transformationHTTPFilter(t testing.TB) *hcmv3.HttpFilter {
	return pluginFilter(t, "gluon.transformation", transformationwire.ListenerType, `{"allowedEnv": ["GLUON_DP_TEST_REGION"]}`)
}

// perRoute is a typed_per_filter_config entry for gluon.transformation;
// spec "" means disabled.
func perRoute(t testing.TB, spec string) map[string]*anypb.Any {
	rp := &golangv3alpha.RouterPlugin{Override: &golangv3alpha.RouterPlugin_Disabled{Disabled: true}}
	if spec != "" {
		rp.Override = &golangv3alpha.RouterPlugin_Config{Config: typedStruct(t, transformationwire.RouteType, spec)}
	}
	cpr := &golangv3alpha.ConfigsPerRoute{PluginsConfig: map[string]*golangv3alpha.RouterPlugin{"gluon.transformation": rp}}
	return map[string]*anypb.Any{"gluon.transformation": mustAny(t, cpr)}
}

// transformed gives a route a transformation spec (JSON).
func transformed(t testing.TB, r *routev3.Route, name, spec string) *routev3.Route {
	r.Name = name
	r.TypedPerFilterConfig = perRoute(t, spec)
	return r
}

func directRoute(prefix string, status uint32, body string) *routev3.Route {
	return &routev3.Route{
		Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{
			Status: status, Body: &core.DataSource{Specifier: &core.DataSource_InlineString{InlineString: body}},
		}},
	}
}

// transformationResources serves rc on a listener with the transformation filter.
func (e *env) transformationResources(rc *routev3.RouteConfiguration, backends map[string]*httptest.Server) resources {
	r := e.basic(rc, backends)
	r.listeners = []types.Resource{httpListener(e.t, "http", e.port, rc.Name, transformationHTTPFilter(e.t), routerFilter(e.t))}
	return r
}

func TestTransformationRequest(t *testing.T) {
	t.Setenv("GLUON_DP_TEST_REGION", "eu-west-1")
	e := newEnv(t)
	b, other := backend(t, "b"), backend(t, "other")
	rewrite := prefixRoute("/v1/", "b")
	rewrite.GetRoute().PrefixRewrite = "/api/"
	rc := routeConfig("rc", vhost("all", []string{"*"},
		transformed(t, prefixRoute("/petstore/findPet", "b"), "findPet",
			`{"request": {"headers": {":path": "/api/pets/{{ header(\"x-pet-id\") }}", "x-region": "{{ env(\"GLUON_DP_TEST_REGION\") }}"}}}`),
		transformed(t, prefixRoute("/petstore/addPet", "b"), "addPet", `{"request": {
			"headers": {":method": "POST", ":path": "/api/pets", ":authority": "pets.internal"},
			"extractors": {
				"name": {"header": "x-pet-name", "regex": ".*"},
				"tag.kind": {"header": "x-pet-kind", "regex": "kind=(\\w+)", "subgroup": 1},
				"age": {"header": "x-pet-age", "regex": "\\d+", "jsonType": "integer"}},
			"mergeExtractorsToBody": true}}`),
		// The route's prefix_rewrite applies to the path as the filter left it.
		transformed(t, rewrite, "rewrite", `{"request": {"headers": {":path": "/v1/items/{{ header(\"x-id\") }}?q=1"}}}`),
		// Routed on the original path only: /api/ goes elsewhere.
		prefixRoute("/api/", "other"),
	))
	e.push(e.transformationResources(rc, map[string]*httptest.Server{"b": b, "other": other}))

	s, _ := e.call("GET", "", "/petstore/findPet", http.Header{"X-Pet-Id": {"2"}}, 200)
	if s.Backend != "b" || s.URI != "/api/pets/2" || s.Header.Get("X-Region") != "eu-west-1" {
		t.Errorf("findPet: backend %s saw %s (x-region %q), want b /api/pets/2 (eu-west-1)", s.Backend, s.URI, s.Header.Get("X-Region"))
	}

	s, _ = e.call("GET", "", "/petstore/addPet", http.Header{"X-Pet-Name": {"rex"}, "X-Pet-Kind": {"kind=dog"}, "X-Pet-Age": {"3"}}, 200)
	var body map[string]any
	if err := json.Unmarshal([]byte(s.Body), &body); err != nil {
		t.Fatalf("addPet body %q: %v", s.Body, err)
	}
	if got := fmt.Sprint(body); got != "map[age:3 name:rex tag:map[kind:dog]]" {
		t.Errorf("addPet body %s", got)
	}
	if s.Method != "POST" || s.URI != "/api/pets" || s.Host != "pets.internal" || s.Header.Get("Content-Length") != fmt.Sprint(len(s.Body)) {
		t.Errorf("addPet: %s %s host %s, content-length %q for %d bytes", s.Method, s.URI, s.Host, s.Header.Get("Content-Length"), len(s.Body))
	}

	s, _ = e.call("GET", "", "/v1/anything", http.Header{"X-Id": {"7"}}, 200)
	if s.Backend != "b" || s.URI != "/api/items/7?q=1" {
		t.Errorf("rewrite: backend %s saw %s, want b /api/items/7?q=1", s.Backend, s.URI)
	}
}

func TestTransformationResponse(t *testing.T) {
	e := newEnv(t)
	pets := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/xml":
			w.Header().Set("Content-Type", "text/xml")
			_, _ = io.WriteString(w, "<pet>not json</pet>")
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id": 2, "name": "rex"}`)
		}
	}))
	t.Cleanup(pets.Close)
	rc := routeConfig("rc", vhost("all", []string{"*"},
		transformed(t, prefixRoute("/pet", "pets"), "pet",
			`{"response": {"headers": {":status": "201"}, "body": "{\"petName\": \"{{ name }}\", \"was\": {{ header(\":status\") }}}"}}`),
		// A pongo2 header template buffers the body; a non-JSON one must
		// still pass through byte for byte.
		transformed(t, prefixRoute("/xml", "pets"), "xml",
			`{"response": {"headers": {"x-type": "{{ header(\"content-type\") | upper }}"}}}`),
		transformed(t, directRoute("/direct", 200, "hello"), "direct",
			`{"response": {"headers": {"x-status": "{{ header(\":status\") }}"}}}`),
		transformed(t, prefixRoute("/unavailable", "empty"), "unavailable",
			`{"response": {"headers": {":status": "502", "x-status": "{{ header(\":status\") }}"}}}`),
	))
	r := e.transformationResources(rc, map[string]*httptest.Server{"pets": pets})
	r.clusters = append(r.clusters, edsCluster("empty"))
	r.endpoints = append(r.endpoints, cla("empty"))
	e.push(r)

	s, resp := e.call("GET", "", "/pet", nil, 201)
	if s.Body != `{"petName": "rex", "was": 200}` || resp.ContentLength != int64(len(s.Body)) {
		t.Errorf("pet: %q, content-length %d", s.Body, resp.ContentLength)
	}
	s, resp = e.call("GET", "", "/xml", nil, 200)
	if s.Body != "<pet>not json</pet>" || resp.Header.Get("X-Type") != "TEXT/XML" {
		t.Errorf("xml: %q, x-type %q", s.Body, resp.Header.Get("X-Type"))
	}
	// Local replies go through the response transformation too.
	s, resp = e.call("GET", "", "/direct", nil, 200)
	if s.Body != "hello" || resp.Header.Get("X-Status") != "200" {
		t.Errorf("direct: %q, x-status %q", s.Body, resp.Header.Get("X-Status"))
	}
	s, resp = e.call("GET", "", "/unavailable", nil, 502)
	if s.Body != msgNoHealthyUpstream || resp.Header.Get("X-Status") != "503" {
		t.Errorf("unavailable: %q, x-status %q", s.Body, resp.Header.Get("X-Status"))
	}
}

// TestTransformationStreams checks that a route with a request-only
// transformation still streams its response.
func TestTransformationStreams(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	stream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "second\n")
	}))
	t.Cleanup(stream.Close)
	defer close(release)
	rc := routeConfig("rc", vhost("all", []string{"*"},
		transformed(t, prefixRoute("/", "s"), "stream", `{"request": {"headers": {"x-a": "{{ header(\"x-b\") }}"}}}`)))
	e.push(e.transformationResources(rc, map[string]*httptest.Server{"s": stream}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://127.0.0.1:"+itoa(e.port)+"/", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("first chunk %q, %v", buf, err)
	}
}

func TestTransformationRenderFailure(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	rc := routeConfig("rc", vhost("all", []string{"*"},
		transformed(t, prefixRoute("/decode", "b"), "decode",
			`{"request": {"headers": {"x-decoded": "{{ base64_decode(header(\"x-data\")) }}"}}}`),
		prefixRoute("/", "b"),
	))
	e.push(e.transformationResources(rc, map[string]*httptest.Server{"b": b}))

	s, resp := e.call("GET", "", "/decode", http.Header{"X-Data": {"!!!"}}, 500)
	if !strings.Contains(s.Body, "transformation failed rendering header x-decoded") || !strings.Contains(s.Body, "base64_decode") ||
		resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("failed render: %q (%s)", s.Body, resp.Header.Get("Content-Type"))
	}
	if s, _ := e.call("GET", "", "/decode", http.Header{"X-Data": {"aGk="}}, 200); s.Header.Get("X-Decoded") != "hi" {
		t.Errorf("decoded %q", s.Header.Get("X-Decoded"))
	}
	e.call("GET", "", "/other", nil, 200)
}

func TestTransformationVirtualHostConfig(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	vh := vhost("all", []string{"*"},
		transformed(t, prefixRoute("/off", "b"), "off", ""),
		transformed(t, prefixRoute("/own", "b"), "own", `{"request": {"headers": {"x-level": "route"}}}`),
		prefixRoute("/", "b"),
	)
	vh.TypedPerFilterConfig = perRoute(t, `{"request": {"headers": {"x-level": "virtual host"}}}`)
	e.push(e.transformationResources(routeConfig("rc", vh), map[string]*httptest.Server{"b": b}))

	for path, want := range map[string]string{"/inherits": "virtual host", "/own": "route", "/off": ""} {
		if s, _ := e.call("GET", "", path, nil, 200); s.Header.Get("X-Level") != want {
			t.Errorf("%s: x-level %q, want %q", path, s.Header.Get("X-Level"), want)
		}
	}
}

func TestTransformationNACKs(t *testing.T) {
	e := newEnv(t)
	b := backend(t, "b")
	rc := routeConfig("rc", vhost("all", []string{"*"},
		transformed(t, prefixRoute("/pet", "b"), "pet", `{"request": {"headers": {":path": "/api/pets/{{ header(\"x-pet-id\") }}"}}}`)))
	good := e.transformationResources(rc, map[string]*httptest.Server{"b": b})
	e.push(good)

	unknownPlugin := good
	unknownPlugin.listeners = []types.Resource{httpListener(t, "http", e.port, "rc",
		transformationHTTPFilter(t), pluginFilter(t, "gluon.nope", "gluon.dev/nope.ListenerConfig", `{}`), routerFilter(t))}

	badListenerConfig := good
	badListenerConfig.listeners = []types.Resource{httpListener(t, "http", e.port, "rc",
		pluginFilter(t, "gluon.transformation", transformationwire.ListenerType, `{"allowedEnv": "HOME"}`), routerFilter(t))}

	badSpec := good
	badSpec.routes = []types.Resource{routeConfig("rc", vhost("all", []string{"*"},
		transformed(t, prefixRoute("/pet", "b"), "sneaky", `{"request": {"body": "{% include \"/etc/passwd\" %}"}}`)))}

	unknownKey := good
	cors := prefixRoute("/pet", "b")
	cors.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.cors": typedStruct(t, "x", `{}`)}
	unknownKey.routes = []types.Resource{routeConfig("rc", vhost("all", []string{"*"}, cors))}

	for _, c := range []struct {
		name     string
		res      resources
		typeURL  string
		contains []string
	}{
		{"unknown plugin", unknownPlugin, resourcev3.ListenerType, []string{`listener "http"`, `"gluon.nope"`, "not run by the Gluon data plane"}},
		{"bad listener config", badListenerConfig, resourcev3.ListenerType, []string{`listener "http"`, "gluon.transformation: listener config"}},
		{"template includes a file", badSpec, resourcev3.RouteType, []string{`route configuration "rc"`, `route 0 ("sneaky")`, "include"}},
		{"unknown per-filter key", unknownKey, resourcev3.RouteType, []string{`typed_per_filter_config "envoy.filters.http.cors" is not supported`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			nack := e.expectNACK(c.res, c.typeURL)
			for _, s := range c.contains {
				if !strings.Contains(nack, s) {
					t.Errorf("NACK %q does not mention %q", nack, s)
				}
			}
			// The previous config keeps serving, transformation included.
			if s, _ := e.call("GET", "", "/pet", http.Header{"X-Pet-Id": {"5"}}, 200); s.URI != "/api/pets/5" {
				t.Errorf("after NACK: backend saw %s", s.URI)
			}
		})
	}
}

// expectNACK pushes r and returns the error of its rejection for typeURL,
// once the control plane has received that NACK.
func (e *env) expectNACK(r resources, typeURL string) string {
	e.t.Helper()
	e.version++
	v := fmt.Sprintf("v%d", e.version)
	e.cp.set(e.t, v, r)
	var nack string
	waitFor(e.t, "NACK of "+typeURL+" "+v, func() bool {
		st := e.dp.Status()
		if st.LastNACK == nil || st.LastNACK.TypeURL != typeURL || st.LastNACK.Version != v {
			return false
		}
		for _, req := range e.cp.nackList() {
			if req.GetTypeUrl() == typeURL && req.GetErrorDetail().GetMessage() == st.LastNACK.Error {
				nack = st.LastNACK.Error
				return true
			}
		}
		return false
	})
	return nack
}

// TestTransformationBodyLimit checks that a response body the transformation
// must buffer is refused over the limit, whether its length is declared or not.
func TestTransformationBodyLimit(t *testing.T) {
	e := newEnv(t)
	const limit = 1 << 20 // the transformation engine's default
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("x", 64<<10)
		if r.URL.Path == "/declared" {
			w.Header().Set("Content-Length", itoa(limit+len(chunk)))
		}
		for range limit/len(chunk) + 1 {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(big.Close)
	rc := routeConfig("rc", vhost("all", []string{"*"},
		transformed(t, prefixRoute("/", "big"), "big", `{"response": {"body": "{{ body() | length }}"}}`)))
	e.push(e.transformationResources(rc, map[string]*httptest.Server{"big": big}))
	for _, path := range []string{"/declared", "/chunked"} {
		if s, _ := e.call("GET", "", path, nil, http.StatusRequestEntityTooLarge); !strings.Contains(s.Body, "body exceeds the transformation buffer") {
			t.Errorf("%s: %q", path, s.Body)
		}
	}
}
