package mcp

import (
	"encoding/json"
)

// The JSON-RPC 2.0 error codes MCP uses.
const (
	CodeParseError     = -32700
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
)

// message is any JSON-RPC message: a request (method and id), a
// notification (method, no id) or a response (result or error, and id).
type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *rpcError) Error() string { return e.Message }

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// ErrorReply is a JSON-RPC error response with no request id: for a
// message that could not be read at all.
func ErrorReply(code int, msg string) []byte {
	return encode(response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{Code: code, Message: msg}})
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil { // only JSON values from this package: cannot happen
		return []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"encoding the reply failed"}}`)
	}
	return b
}

// notification is a JSON-RPC notification the server sends.
func notification(method string) []byte {
	return encode(struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
	}{"2.0", method})
}

// validID: a request's id is a string or a number (not null, as MCP says).
func validID(id json.RawMessage) bool {
	if len(id) == 0 {
		return false
	}
	switch id[0] {
	case '"':
		var s string
		return json.Unmarshal(id, &s) == nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		return json.Unmarshal(id, &n) == nil
	}
	return false
}
