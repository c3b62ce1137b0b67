package mcp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ProtocolVersions are the protocol versions the server speaks, newest
// first; a client asking for another is answered with the newest.
var ProtocolVersions = []string{"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"}

// pageSize is how many tools one tools/list page holds.
const pageSize = 100

// Reply is the transport's answer to one POSTed message.
type Reply struct {
	Status int
	// Body is a JSON-RPC message; nil with 202 Accepted.
	Body []byte
	// SessionID is set on the reply to initialize: the Mcp-Session-Id.
	SessionID string
}

func rpcReply(status int, id json.RawMessage, result any, err *rpcError) Reply {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	return Reply{Status: status, Body: encode(response{JSONRPC: "2.0", ID: id, Result: result, Error: err})}
}

func transportError(status, code int, format string, args ...any) Reply {
	return Reply{Status: status, Body: ErrorReply(code, fmt.Sprintf(format, args...))}
}

// Headers reads a request header by lower-case name.
type Headers func(name string) string

// CheckOrigin refuses a browser's request from another origin than the
// server's (DNS rebinding, as the transport's security rules require);
// requests without an Origin (not from a browser) pass.
func CheckOrigin(h Headers, host string) (Reply, bool) {
	origin := h("origin")
	if origin == "" {
		return Reply{}, true
	}
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, host) {
		return transportError(http.StatusForbidden, CodeInvalidRequest, "Origin %q may not use this MCP server", origin), false
	}
	return Reply{}, true
}

// HandlePost answers one POSTed JSON-RPC message (the transport has read
// at most MaxMessageBytes+1 of it).
func (c *Config) HandlePost(ctx context.Context, sessions *Sessions, h Headers, body []byte, caller Caller) Reply {
	if len(body) > c.MaxMessageBytes {
		return transportError(http.StatusRequestEntityTooLarge, CodeInvalidRequest, "message larger than %d bytes", c.MaxMessageBytes)
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		return transportError(http.StatusBadRequest, CodeInvalidRequest, "JSON-RPC batches are not supported: send one message per request")
	}
	var msg message
	if err := json.Unmarshal(body, &msg); err != nil {
		return transportError(http.StatusBadRequest, CodeParseError, "parse error: %v", err)
	}
	if msg.JSONRPC != "2.0" {
		return transportError(http.StatusBadRequest, CodeInvalidRequest, `invalid request: "jsonrpc" must be "2.0"`)
	}
	if msg.Method == "initialize" {
		return c.initialize(sessions, &msg)
	}
	sid := h("mcp-session-id")
	if sid == "" && msg.Method == "server/discover" && validID(msg.ID) {
		// Newer clients probe for the stateless protocol first, and fall
		// back to initialize when the server does not know the method.
		return rpcReply(http.StatusOK, msg.ID, nil, &rpcError{Code: CodeMethodNotFound, Message: "method not found: server/discover (this server speaks the session protocol: initialize)"})
	}
	if sid == "" {
		return transportError(http.StatusBadRequest, CodeInvalidRequest, "Mcp-Session-Id header is required: initialize first")
	}
	if _, ok := sessions.Get(c.Endpoint, sid); !ok {
		return transportError(http.StatusNotFound, CodeInvalidRequest, "session %q not found (it ended or expired): initialize again", sid)
	}
	if v := h("mcp-protocol-version"); v != "" && !slices.Contains(ProtocolVersions, v) {
		return transportError(http.StatusBadRequest, CodeInvalidRequest, "unsupported MCP-Protocol-Version %q", v)
	}
	if msg.Method == "" || len(msg.ID) == 0 { // a response or a notification
		return Reply{Status: http.StatusAccepted}
	}
	if !validID(msg.ID) {
		return transportError(http.StatusBadRequest, CodeInvalidRequest, "invalid request: id must be a string or a number")
	}
	result, err := c.dispatch(ctx, &msg, caller)
	return rpcReply(http.StatusOK, msg.ID, result, err)
}

func (c *Config) dispatch(ctx context.Context, msg *message, caller Caller) (any, *rpcError) {
	switch msg.Method {
	case "ping":
		return struct{}{}, nil
	case "tools/list":
		return c.list(msg.Params)
	case "tools/call":
		return c.call(ctx, msg.Params, caller)
	}
	return nil, &rpcError{Code: CodeMethodNotFound, Message: "method not found: " + msg.Method}
}

type initializeParams struct {
	ProtocolVersion string `json:"protocolVersion"`
}

func (c *Config) initialize(sessions *Sessions, msg *message) Reply {
	if !validID(msg.ID) {
		return transportError(http.StatusBadRequest, CodeInvalidRequest, "invalid request: initialize needs an id, a string or a number")
	}
	var p initializeParams
	if err := json.Unmarshal(orEmpty(msg.Params), &p); err != nil {
		return rpcReply(http.StatusOK, msg.ID, nil, &rpcError{Code: CodeInvalidParams, Message: "invalid initialize params: " + err.Error()})
	}
	version := ProtocolVersions[0]
	if slices.Contains(ProtocolVersions, p.ProtocolVersion) {
		version = p.ProtocolVersion
	}
	sess, err := sessions.create(c, version)
	if err != nil {
		if e, ok := err.(*rpcError); ok {
			return rpcReply(http.StatusServiceUnavailable, msg.ID, nil, e)
		}
		return rpcReply(http.StatusInternalServerError, msg.ID, nil, &rpcError{Code: CodeInternalError, Message: err.Error()})
	}
	result := map[string]any{
		"protocolVersion": version,
		"capabilities":    map[string]any{"tools": map[string]bool{"listChanged": true}},
		"serverInfo":      map[string]string{"name": "gluon", "title": "Gluon function gateway", "version": "1"},
		"instructions":    "Each tool calls one function behind the Gluon gateway (a REST operation, an AWS Lambda function or an Azure Function) through its route.",
	}
	r := rpcReply(http.StatusOK, msg.ID, result, nil)
	r.SessionID = sess.ID
	return r
}

func orEmpty(raw json.RawMessage) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return []byte("{}")
	}
	return raw
}

type listParams struct {
	Cursor string `json:"cursor"`
}

// list is one page of tools/list; the cursor names the tool list version
// and the offset, so a page of another version is refused.
func (c *Config) list(params json.RawMessage) (any, *rpcError) {
	var p listParams
	if err := json.Unmarshal(orEmpty(params), &p); err != nil {
		return nil, &rpcError{Code: CodeInvalidParams, Message: "invalid tools/list params: " + err.Error()}
	}
	start := 0
	if p.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		version, offset, found := strings.Cut(string(raw), ":")
		n, convErr := strconv.Atoi(offset)
		if err != nil || !found || convErr != nil || n < 0 || n > len(c.listJSON) {
			return nil, &rpcError{Code: CodeInvalidParams, Message: "invalid cursor"}
		}
		if version != c.Version {
			return nil, &rpcError{Code: CodeInvalidParams, Message: "the tool list changed since this cursor was given: list again from the start"}
		}
		start = n
	}
	end := min(start+pageSize, len(c.listJSON))
	var b bytes.Buffer
	b.WriteString(`{"tools":[`)
	for i, t := range c.listJSON[start:end] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(t)
	}
	b.WriteByte(']')
	if end < len(c.listJSON) {
		cursor := base64.RawURLEncoding.EncodeToString([]byte(c.Version + ":" + strconv.Itoa(end)))
		b.WriteString(`,"nextCursor":"` + cursor + `"`)
	}
	b.WriteByte('}')
	return json.RawMessage(b.Bytes()), nil
}
