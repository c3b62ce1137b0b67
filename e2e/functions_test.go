package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/openapi/petstore"
)

const functionsConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: petstore-v2}
spec: {static: {hosts: [{addr: 127.0.0.1, port: V2_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: petstore-v31}
spec: {static: {hosts: [{addr: 127.0.0.1, port: V31_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: petstore}
spec:
  virtualHost:
    routes:
    - matchers: [{exact: /petstore/findPet}]
      routeAction:
        single:
          upstream: {name: petstore-v2}
          destinationSpec: {rest: {functionName: findPetById, parameters: {headers: {x-pet-id: "{id}"}}}}
    - matchers: [{prefix: /v31/pets/}]
      routeAction:
        single:
          upstream: {name: petstore-v31}
          destinationSpec: {rest: {functionName: findPetById, parameters: {path: "/v31/pets/{id}"}}}
    - matchers: [{exact: /petstore/add}]
      routeAction:
        single:
          upstream: {name: petstore-v31}
          destinationSpec: {rest: {functionName: addPet, parameters: {headers: {x-name: "{name}", x-age: "{age}"}}}}
    - matchers: [{exact: /petstore/missing}]
      routeAction:
        single:
          upstream: {name: petstore-v2}
          destinationSpec:
            rest:
              functionName: findPetById
              parameters: {headers: {x-pet-id: "{id}"}}
              responseTransformation:
                headers: {":status": {text: '{% if header(":status") == "404" %}200{% else %}{{ header(":status") }}{% endif %}'}}
                body: {text: '{"found": {% if header(":status") == "404" %}false{% else %}true{% endif %}, "upstream": {{ body() }}}'}
    - matchers: [{prefix: /photo/}]
      routeAction:
        single:
          upstream: {name: petstore-v2}
          destinationSpec:
            rest:
              functionName: get_pets_id_photo
              parameters: {path: "/photo/{id}"}
              responseTransformation:
                headers: {x-transformed: {text: "yes"}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: templates}
spec:
  virtualHost:
    domains: [templates.test]
    routes:
    - matchers: [{prefix: /syntax}]
      routeAction: {single: {upstream: {name: petstore-v2}}}
      options: {transformations: {requestTransformation: {transformationTemplate: {body: {text: "{{ header(\"x\" }}"}}}}}
    - matchers: [{prefix: /include}]
      routeAction: {single: {upstream: {name: petstore-v2}}}
      options: {transformations: {requestTransformation: {transformationTemplate: {body: {text: '{% include "/etc/passwd" %}'}}}}}
    - matchers: [{prefix: /runaway}]
      routeAction: {single: {upstream: {name: petstore-v2}}}
      options: {transformations: {requestTransformation: {transformationTemplate: {body: {text: '{% for a in body() %}{% for b in body() %}{% endfor %}{% endfor %}'}}}}}
    - matchers: [{prefix: /}]
      routeAction: {single: {upstream: {name: petstore-v2}}}
      options: {prefixRewrite: /api/pets/}
`

func TestRESTFunctions(t *testing.T) {
	v2 := startBackend(t, "petstore-v2", petstore.Handler(petstore.Swagger2).ServeHTTP)
	v31 := startBackend(t, "petstore-v31", petstore.Handler(petstore.OpenAPI31).ServeHTTP)
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "petstore.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "V2_PORT", v2.port(), "V31_PORT", v31.port()).Replace(functionsConfig))
	cp := startServe(t, dir, t.TempDir(), "embedded")
	base := "http://" + gw
	waitFor(t, 15*time.Second, "functions discovered and routed", func() bool {
		code, _ := get(t, base+"/petstore/findPet", map[string]string{"x-pet-id": "2"})
		code31, _ := get(t, base+"/v31/pets/1", nil)
		return code == 200 && code31 == 200
	})

	t.Run("functions appear in /statusz", func(t *testing.T) {
		var st struct {
			Functions []struct {
				Upstream  struct{ Name string }
				Source    string
				Functions []struct{ Name string }
			}
		}
		_, body := get(t, "http://"+cp.admin+"/statusz", nil)
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		sources := map[string]string{}
		for _, d := range st.Functions {
			if len(d.Functions) != 5 {
				t.Errorf("%s: %d functions, want 5", d.Upstream.Name, len(d.Functions))
			}
			sources[d.Upstream.Name] = d.Source
		}
		if !strings.HasSuffix(sources["petstore-v2"], "/swagger.json") || !strings.HasSuffix(sources["petstore-v31"], "/openapi.yaml") {
			t.Fatalf("sources %v", sources)
		}
	})
	t.Run("header parameter reaches GET /api/pets/2", func(t *testing.T) {
		code, body := do(t, http.MethodPost, base+"/petstore/findPet", map[string]string{"x-pet-id": "2"})
		if code != 200 || !strings.Contains(body, `"id":2,"name":"Tom"`) {
			t.Fatalf("%d %s", code, body)
		}
	})
	t.Run("each REST function's calls are counted apart", func(t *testing.T) {
		_, metrics := get(t, "http://"+cp.admin+"/metrics", nil)
		for _, want := range []string{`gluon_function_invocations_total{function="findPetById",kind="rest",upstream="default/petstore-v2"}`,
			`gluon_function_latency_count{function="findPetById",kind="rest",upstream="default/petstore-v2"}`} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
	t.Run("path parameter on the OpenAPI 3.1 upstream", func(t *testing.T) {
		if code, body := get(t, base+"/v31/pets/1", nil); code != 200 || !strings.Contains(body, `"name":"Rex"`) {
			t.Fatalf("%d %s", code, body)
		}
	})
	t.Run("POST function builds its JSON body from extracted values", func(t *testing.T) {
		code, body := do(t, http.MethodPost, base+"/petstore/add", map[string]string{"x-name": "Fido", "x-age": "4"})
		if code != 201 || !strings.Contains(body, `"name":"Fido","age":4`) {
			t.Fatalf("%d %s", code, body)
		}
	})
	t.Run("response transformation rewrites status and body", func(t *testing.T) {
		code, body := get(t, base+"/petstore/missing", map[string]string{"x-pet-id": "99"})
		if code != 200 || !strings.HasPrefix(body, `{"found": false, "upstream": {"error":"no pet \"99\""}`) {
			t.Fatalf("%d %s", code, body)
		}
	})
	t.Run("non-JSON upstream body passes through", func(t *testing.T) {
		resp, err := client.Get(base + "/photo/7")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 64)
		n, _ := resp.Body.Read(buf)
		if resp.StatusCode != 200 || string(buf[:n]) != "\x89PNG\r\n\x1a\nnot-json-7" || resp.Header.Get("x-transformed") != "yes" {
			t.Fatalf("%d %q %v", resp.StatusCode, buf[:n], resp.Header)
		}
	})
	t.Run("bad templates are rejected or bounded; other routes serve", func(t *testing.T) {
		host := map[string]string{"Host": "templates.test"}
		for _, path := range []string{"/syntax", "/include"} {
			if code, body := get(t, base+path, host); code != 500 || !strings.Contains(body, "transformation") {
				t.Errorf("%s: %d %s", path, code, body)
			}
		}
		start := time.Now()
		code, body := doBody(t, http.MethodPost, base+"/runaway", host, strings.Repeat("a", 20_000))
		bounded := strings.Contains(body, "render exceeded") || strings.Contains(body, "iterations")
		if code != 500 || !bounded || time.Since(start) > 5*time.Second {
			t.Errorf("runaway: %d %s after %s", code, body, time.Since(start))
		}
		if code, body := get(t, base+"/2", host); code != 200 || !strings.Contains(body, `"name":"Tom"`) {
			t.Errorf("the good route of the same virtual service: %d %s", code, body)
		}
		if !strings.Contains(cp.Logs(), "transformation failed") {
			t.Error("a failed render left no log line")
		}
		_, status := get(t, "http://"+cp.admin+"/statusz", nil)
		for _, want := range []string{"line 1, column", "sandbox"} {
			if !strings.Contains(status, want) {
				t.Errorf("/statusz lacks %q", want)
			}
		}
	})
}
