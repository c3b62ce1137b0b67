package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/gluon-gateway/gluon/fds/lambda/standin"
)

const mcpConfig = `apiVersion: gluon.dev/v1
kind: Gateway
metadata: {name: http}
spec: {bindAddress: 127.0.0.1, bindPort: GW_PORT}
---
apiVersion: gluon.dev/v1
kind: Settings
metadata: {name: settings}
spec: {discovery: {pollInterval: 1s}}
---
apiVersion: gluon.dev/v1
kind: Secret
metadata: {name: aws-creds}
spec: {aws: {accessKey: ACCESS_KEY, secretKey: SECRET_KEY}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: clinic}
spec: {static: {hosts: [{addr: 127.0.0.1, port: CLINIC_PORT}]}}
---
apiVersion: gluon.dev/v1
kind: Upstream
metadata: {name: aws}
spec: {aws: {region: us-east-1, endpoint: "LAMBDA_URL", secretRef: {name: aws-creds}}}
---
apiVersion: gluon.dev/v1
kind: VirtualService
metadata: {name: tools}
spec:
  virtualHost:
    routes:
    - matchers: [{exact: /clinic/visits}]
      routeAction:
        single:
          upstream: {name: clinic}
          destinationSpec: {rest: {functionName: listVisits, parameters: {headers: {x-pet: "{petId}"}}}}
      options: {localRatelimit: {maxTokens: 3, tokensPerFill: 1, fillInterval: 1h}}
    - matchers: [{prefix: /lambda/echo}]
      routeAction: {single: {upstream: {name: aws}, destinationSpec: {aws: {logicalName: versioned, wrapAsApiGateway: true}}}}
      options: {transformations: {requestTransformation: {transformationTemplate: {headers: {x-via: {text: transformation}}}}}}
    - matchers: [{prefix: /mcp}]
      routeAction: {mcp: {upstreams: [{name: clinic}, {name: aws}]}}
    - matchers: [{prefix: /other}]
      directResponseAction: {status: 200, body: other}
`

// clinicDoc is the clinic's OpenAPI document; withVets adds an operation.
func clinicDoc(withVets bool) string {
	vets := ""
	if withVets {
		vets = `, "/vets": {"get": {"operationId": "listVets", "summary": "List the vets", "responses": {"200": {"description": "vets"}}}}`
	}
	return `{"openapi": "3.0.3", "info": {"title": "Clinic", "version": "1"}, "servers": [{"url": "/api"}],
  "paths": {
    "/visits": {
      "get": {"operationId": "listVisits", "summary": "List a pet's visits",
        "parameters": [{"name": "petId", "in": "query", "required": true, "description": "the pet", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "visits"}}},
      "post": {"operationId": "addVisit", "summary": "Book a visit",
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Visit"}}}},
        "responses": {"201": {"description": "booked"}}}},
    "/visits/{id}": {
      "delete": {"operationId": "cancelVisit",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                       {"name": "x-clinic-user", "in": "header", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "cancelled"}}}}` + vets + `},
  "components": {"schemas": {"Visit": {"type": "object", "required": ["petId", "reason"],
    "properties": {"petId": {"type": "integer", "description": "who comes"}, "reason": {"type": "string"}}}}}}`
}

func clinic(doc *atomic.Pointer[string]) http.HandlerFunc {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, *doc.Load())
	})
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /api/visits", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"petId": r.URL.Query().Get("petId"), "visits": []string{"2026-01-01"}})
	})
	mux.HandleFunc("POST /api/visits", func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		json.NewDecoder(r.Body).Decode(&v)
		w.WriteHeader(http.StatusCreated)
		reply(w, map[string]any{"booked": v})
	})
	mux.HandleFunc("DELETE /api/visits/{id}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"cancelled": r.PathValue("id"), "by": r.Header.Get("X-Clinic-User")})
	})
	mux.HandleFunc("GET /api/vets", func(w http.ResponseWriter, _ *http.Request) { reply(w, map[string]any{"vets": []string{"Ann"}}) })
	return mux.ServeHTTP
}

func TestMCP(t *testing.T) {
	var doc atomic.Pointer[string]
	first := clinicDoc(false)
	doc.Store(&first)
	clinicSrv := startBackend(t, "clinic", clinic(&doc))
	lambda, lambdaURL := startLambda(t)
	gw := freeAddr(t)
	dir := t.TempDir()
	writeFile(t, dir, "mcp.yaml", strings.NewReplacer("GW_PORT", portOf(gw), "CLINIC_PORT", clinicSrv.port(), "LAMBDA_URL", lambdaURL,
		"ACCESS_KEY", awsAccessKey, "SECRET_KEY", awsSecretKey).Replace(mcpConfig))
	startServe(t, dir, t.TempDir(), "embedded")
	endpoint := "http://" + gw + "/mcp"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	changed := make(chan struct{}, 8)
	client := mcp.NewClient(&mcp.Implementation{Name: "gluon-e2e", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	var session *mcp.ClientSession
	tools := map[string]*mcp.Tool{}
	listTools := func() {
		t.Helper()
		clear(tools)
		for tool, err := range session.Tools(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			tools[tool.Name] = tool
		}
	}
	waitFor(t, 20*time.Second, "the MCP server and every function's tool", func() bool {
		if session == nil {
			s, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint}, nil)
			if err != nil {
				return false
			}
			session = s
		}
		listTools()
		return len(tools) >= 4 && tools["aws_versioned"] != nil && tools["clinic_listVisits"] != nil
	})
	defer session.Close()

	t.Run("one tool per function, input schemas from the OpenAPI document", func(t *testing.T) {
		checkSchema(t, tools["clinic_listVisits"], map[string]string{"petId": "integer"}, []string{"petId"})
		checkSchema(t, tools["clinic_addVisit"], map[string]string{"petId": "integer", "reason": "string"}, []string{"petId", "reason"})
		checkSchema(t, tools["clinic_cancelVisit"], map[string]string{"id": "string", "x-clinic-user": "string"}, []string{"id"})
		if d := tools["clinic_listVisits"].Description; !strings.Contains(d, "List a pet's visits") {
			t.Errorf("description %q lacks the summary", d)
		}
		if a := tools["clinic_listVisits"].Annotations; a == nil || !a.ReadOnlyHint {
			t.Errorf("GET should be read-only: %+v", a)
		}
		if a := tools["clinic_cancelVisit"].Annotations; a == nil || a.DestructiveHint == nil || !*a.DestructiveHint {
			t.Errorf("DELETE should be destructive: %+v", a)
		}
		if got := propertyDescription(tools["clinic_listVisits"], "petId"); got != "the pet" {
			t.Errorf("petId description %q", got)
		}
	})

	call := func(name string, args map[string]any) (*mcp.CallToolResult, string) {
		t.Helper()
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var text strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				text.WriteString(tc.Text)
			}
		}
		return res, text.String()
	}
	t.Run("calls of REST and Lambda tools go through their routes", func(t *testing.T) {
		if res, text := call("clinic_listVisits", map[string]any{"petId": 7}); res.IsError || !strings.Contains(text, `"petId":"7"`) {
			t.Errorf("listVisits: %v %s", res.IsError, text)
		}
		if res, text := call("clinic_addVisit", map[string]any{"petId": 3, "reason": "shots"}); res.IsError || !strings.Contains(text, `"reason":"shots"`) {
			t.Errorf("addVisit: %v %s", res.IsError, text)
		}
		if res, text := call("clinic_cancelVisit", map[string]any{"id": "a b/c", "x-clinic-user": "ann"}); res.IsError || !strings.Contains(text, `"cancelled":"a b/c"`) || !strings.Contains(text, `"by":"ann"`) {
			t.Errorf("cancelVisit: %v %s", res.IsError, text)
		}
		// The serving route's request transformation adds x-via; the
		// wrapped event shows it to the function.
		res, text := call("aws_versioned", map[string]any{"hello": "world"})
		if res.IsError || !strings.Contains(text, `\"hello\":\"world\"`) || !strings.Contains(text, `"X-Via":"transformation"`) {
			t.Errorf("aws_versioned: %v %s", res.IsError, text)
		}
		if lambda.Count("versioned", "") == 0 {
			t.Error("the Lambda stand-in saw no signed invocation")
		}
	})

	t.Run("a rate-limited function's tool returns a retriable error", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			res, text := call("clinic_listVisits", map[string]any{"petId": 1})
			if !res.IsError {
				continue
			}
			sc, _ := res.StructuredContent.(map[string]any)
			if !strings.Contains(text, "429") || sc["retryable"] != true {
				t.Fatalf("error result: %s %v", text, sc)
			}
			return
		}
		t.Fatal("the tool was never rate limited")
	})

	t.Run("unknown tools and bad arguments are JSON-RPC errors; other routes keep serving", func(t *testing.T) {
		if _, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "nope", Arguments: map[string]any{}}); err == nil || !strings.Contains(err.Error(), "unknown tool") {
			t.Errorf("unknown tool: %v", err)
		}
		if _, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "clinic_addVisit", Arguments: map[string]any{"petId": "three"}}); err == nil || !strings.Contains(err.Error(), "invalid arguments") {
			t.Errorf("schema violation: %v", err)
		}
		code, body := doBody(t, http.MethodPost, endpoint, map[string]string{"Content-Type": "application/json"}, `{"jsonrpc": "2.0", "id": 1, "method": `)
		if code != 400 || !strings.Contains(body, "-32700") {
			t.Errorf("malformed JSON-RPC: %d %s", code, body)
		}
		if code, body := get(t, "http://"+gw+"/other", nil); code != 200 || body != "other" {
			t.Errorf("other route: %d %s", code, body)
		}
	})

	t.Run("the MCP Inspector lists the tools and calls one", func(t *testing.T) {
		inspector := cachedTool(t, "GLUON_MCP_INSPECTOR", "mcp-inspector-testenv")
		out, err := exec.CommandContext(ctx, inspector, "--cli", endpoint, "--transport", "http", "--method", "tools/list").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "clinic_cancelVisit") {
			t.Fatalf("inspector tools/list: %v\n%s", err, out)
		}
		out, err = exec.CommandContext(ctx, inspector, "--cli", endpoint, "--transport", "http", "--method", "tools/call",
			"--tool-name", "clinic_cancelVisit", "--tool-arg", "id=visit-42", "x-clinic-user=inspector").CombinedOutput()
		if err != nil || !strings.Contains(string(out), `\"by\":\"inspector\"`) {
			t.Fatalf("inspector tools/call: %v\n%s", err, out)
		}
	})

	drain := func() {
		for len(changed) > 0 {
			<-changed
		}
	}
	awaitChange := func(t *testing.T, what string, cond func() bool) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			select {
			case <-changed:
				listTools()
				if cond() {
					return
				}
			case <-deadline:
				t.Fatalf("no tools/list_changed for %s", what)
			}
		}
	}
	t.Run("discovery changes reach sessions as list_changed", func(t *testing.T) {
		drain()
		if err := lambda.AddFunction(standin.Function{Name: "extra", Handler: versioned}); err != nil {
			t.Fatal(err)
		}
		awaitChange(t, "a new Lambda function", func() bool { return tools["aws_extra"] != nil })
		withVets := clinicDoc(true)
		doc.Store(&withVets)
		awaitChange(t, "an operation added to the document", func() bool { return tools["clinic_listVets"] != nil })
		if res, text := call("clinic_listVets", nil); res.IsError || !strings.Contains(text, "Ann") {
			t.Errorf("listVets: %s", text)
		}
		doc.Store(&first)
		awaitChange(t, "an operation removed from the document", func() bool { return tools["clinic_listVets"] == nil })
	})
}

func checkSchema(t *testing.T, tool *mcp.Tool, types map[string]string, required []string) {
	t.Helper()
	if tool == nil {
		t.Fatal("tool missing")
	}
	var s struct {
		Type       string
		Properties map[string]struct{ Type string }
		Required   []string
	}
	b, _ := json.Marshal(tool.InputSchema)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for n, p := range s.Properties {
		got[n] = p.Type
	}
	if s.Type != "object" || fmt.Sprint(got) != fmt.Sprint(types) || fmt.Sprint(s.Required) != fmt.Sprint(required) {
		t.Errorf("%s: schema %s, want properties %v required %v", tool.Name, b, types, required)
	}
}

func propertyDescription(tool *mcp.Tool, name string) string {
	var s struct {
		Properties map[string]struct{ Description string }
	}
	b, _ := json.Marshal(tool.InputSchema)
	_ = json.Unmarshal(b, &s)
	return s.Properties[name].Description
}
