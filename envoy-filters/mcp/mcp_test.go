package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/mcpwire"
)

// echoCaller answers every call with its own request, as JSON.
type echoCaller struct{}

func (echoCaller) Call(_ context.Context, req *CallRequest) (*CallResult, error) {
	b, err := json.Marshal(req)
	return &CallResult{Status: http.StatusOK, Header: http.Header{}, Body: b}, err
}

func testConfig(t testing.TB, n int) *Config {
	t.Helper()
	rc := mcpwire.RouteConfig{Endpoint: "test", MaxSessions: 10, MaxMessageBytes: 1 << 20}
	for i := range n {
		rc.Tools = append(rc.Tools, mcpwire.Tool{
			Name: fmt.Sprintf("tool_%04d", i), Description: "Finds a pet by its id.", Path: fmt.Sprintf("/mcp/_tools/tool_%04d", i),
			InputSchema: json.RawMessage(`{"type":"object","properties":{"id":{"type":"integer","description":"the pet"},"name":{"type":"string"}},"required":["id"]}`),
			Args:        []mcpwire.Arg{{Name: "id", In: "path", Header: "x-gluon-tool-arg-0"}, {Name: "name", In: "body"}},
			ReadOnly:    true,
		})
	}
	js, _ := json.Marshal(rc)
	c, err := ParseRouteConfig(js)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func session(t testing.TB, c *Config, s *Sessions) string {
	t.Helper()
	r := c.HandlePost(context.Background(), s, func(string) string { return "" },
		[]byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}`), echoCaller{})
	if r.Status != 200 || r.SessionID == "" || !strings.Contains(string(r.Body), `"protocolVersion":"2025-06-18"`) {
		t.Fatalf("initialize: %d %s", r.Status, r.Body)
	}
	return r.SessionID
}

func TestProtocol(t *testing.T) {
	c, s := testConfig(t, 250), NewSessions()
	sid := session(t, c, s)
	h := sessionHeader(sid)
	post := func(body string) Reply { return c.HandlePost(context.Background(), s, h, []byte(body), echoCaller{}) }

	// Pages of 100 until no cursor: every tool once.
	seen, cursor := 0, ""
	for page := 0; page < 5; page++ {
		r := post(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"` + cursor + `"}}`)
		var res struct {
			Result struct {
				Tools      []json.RawMessage
				NextCursor string
			}
		}
		if err := json.Unmarshal(r.Body, &res); err != nil {
			t.Fatal(err)
		}
		seen += len(res.Result.Tools)
		if cursor = res.Result.NextCursor; cursor == "" {
			break
		}
	}
	if seen != 250 {
		t.Errorf("listed %d tools, want 250", seen)
	}
	for _, c := range []struct{ body, want string }{
		{`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"tool_0001","arguments":{"id":7,"name":"a b"}}}`, `x-gluon-tool-arg-0\",\"7\"`},
		{`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"nope"}}`, `"code":-32602,"message":"unknown tool \"nope\""`},
		{`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"tool_0001","arguments":{"name":"x"}}}`, `invalid arguments`},
		{`{"jsonrpc":"2.0","id":6,"method":"resources/list"}`, `-32601`},
		{`{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"bm9wZTox"}}`, `-32602`},
		{`{"jsonrpc":"2.0","id":null,"method":"ping"}`, `-32600`},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, `-32600`},
		{`{"jsonrpc":"2.0","id":8,"method":"ping"}`, `"result":{}`},
	} {
		if r := post(c.body); !strings.Contains(string(r.Body), c.want) {
			t.Errorf("%s: %d %s, want %s", c.body, r.Status, r.Body, c.want)
		}
	}
	if r := post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`); r.Status != http.StatusAccepted {
		t.Errorf("notification: %d", r.Status)
	}
	noSession := c.HandlePost(context.Background(), s, func(string) string { return "" }, []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`), echoCaller{})
	if noSession.Status != http.StatusBadRequest {
		t.Errorf("no session: %d", noSession.Status)
	}
}

func TestListChangedReachesSessions(t *testing.T) {
	s := NewSessions()
	c := testConfig(t, 2)
	s.Observe(c)
	sid := session(t, c, s)
	sess, _ := s.Get(c.Endpoint, sid)
	s.Observe(testConfig(t, 2)) // same tools: nothing to say
	s.Observe(testConfig(t, 3))
	select {
	case msg := <-sess.Notify:
		if !strings.Contains(string(msg), "notifications/tools/list_changed") {
			t.Errorf("got %s", msg)
		}
	default:
		t.Fatal("no list_changed")
	}
	if len(sess.Notify) != 0 {
		t.Error("an unchanged tool list notified")
	}
}

// TestListChangedWaitsForTheConfigToServe: a tool list staged (the
// config about to serve) is told of only at Publish, once it serves, so a
// client listing its tools on being told finds the new list.
func TestListChangedWaitsForTheConfigToServe(t *testing.T) {
	s := NewSessions()
	c := testConfig(t, 2)
	s.Stage(c)
	s.Publish()
	sid := session(t, c, s)
	sess, _ := s.Get(c.Endpoint, sid)
	s.Stage(testConfig(t, 3))
	if len(sess.Notify) != 0 {
		t.Fatal("told of a tool list before it serves")
	}
	s.Publish()
	if len(sess.Notify) != 1 {
		t.Fatalf("%d notifications after Publish, want 1", len(sess.Notify))
	}
	s.Publish()
	if len(sess.Notify) != 1 {
		t.Fatal("told twice of one tool list")
	}
}

func TestSessionLimit(t *testing.T) {
	c, s := testConfig(t, 1), NewSessions()
	for range c.MaxSessions {
		session(t, c, s)
	}
	r := c.HandlePost(context.Background(), s, func(string) string { return "" },
		[]byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`), echoCaller{})
	if r.Status != http.StatusServiceUnavailable {
		t.Errorf("session %d: %d %s", c.MaxSessions+1, r.Status, r.Body)
	}
}

// FuzzHandlePost feeds any message to a session: JSON-RPC parsing,
// argument validation and placement never panic, and every request with
// an id gets a JSON-RPC reply.
func FuzzHandlePost(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"tool_0001","arguments":{"id":7,"name":"a\r\nb"}}}`,
		`{"jsonrpc":"2.0","id":"x","method":"tools/list","params":{"cursor":"dGVzdDox"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"tool_0000","arguments":{"id":1e400}}}`,
		`{"jsonrpc":"2.0","result":{}}`, `[]`, `{`, `null`,
	} {
		f.Add([]byte(seed))
	}
	c, s := testConfig(f, 3), NewSessions()
	sid := session(f, c, s)
	h := sessionHeader(sid)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := c.HandlePost(context.Background(), s, h, body, echoCaller{})
		if r.Status == 0 || r.Body != nil && !json.Valid(r.Body) {
			t.Fatalf("reply %d %q", r.Status, r.Body)
		}
	})
}

// sessionHeader is a request's headers that name only its session.
func sessionHeader(sid string) Headers {
	return func(name string) string {
		if name == "mcp-session-id" {
			return sid
		}
		return ""
	}
}

// BenchmarkToolsList1000 is one tools/list of 1,000 tools, every page.
func BenchmarkToolsList1000(b *testing.B) {
	c, s := testConfig(b, 1000), NewSessions()
	sid := session(b, c, s)
	h := sessionHeader(sid)
	b.ReportAllocs()
	for b.Loop() {
		cursor := ""
		for {
			r := c.HandlePost(context.Background(), s, h, []byte(`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"cursor":"`+cursor+`"}}`), echoCaller{})
			var res struct{ Result struct{ NextCursor string } }
			if err := json.Unmarshal(r.Body, &res); err != nil || r.Status != 200 {
				b.Fatalf("%d %s", r.Status, r.Body)
			}
			if cursor = res.Result.NextCursor; cursor == "" {
				break
			}
		}
	}
}

// nopCaller answers at once: what a call costs beyond its route's request.
type nopCaller struct{}

func (nopCaller) Call(context.Context, *CallRequest) (*CallResult, error) {
	return &CallResult{Status: 200, Header: http.Header{}, Body: []byte(`{"id":7,"name":"Rex"}`)}, nil
}

// BenchmarkToolsCallOverhead is a tools/call without the route's own
// request: parsing, argument validation and placement, result mapping.
func BenchmarkToolsCallOverhead(b *testing.B) {
	c, s := testConfig(b, 1000), NewSessions()
	sid := session(b, c, s)
	h := sessionHeader(sid)
	body := []byte(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"tool_0500","arguments":{"id":7,"name":"Rex"}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if r := c.HandlePost(context.Background(), s, h, body, nopCaller{}); r.Status != 200 {
			b.Fatal(string(r.Body))
		}
	}
}
