package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Caller sends a tool call through the proxy: a request to the tool's own
// route, on the MCP request's virtual host, with the MCP request's
// credentials.
type Caller interface {
	Call(ctx context.Context, req *CallRequest) (*CallResult, error)
}

// CallRequest is a tool call as a request: POST Path with Headers and Body.
type CallRequest struct {
	Path    string
	Headers [][2]string
	Body    []byte
}

// CallResult is the route's response.
type CallResult struct {
	Status int
	Header http.Header
	Body   []byte
}

type callParams struct {
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
}

// content is one block of a tool result.
type content struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type callResult struct {
	Content           []content `json:"content"`
	StructuredContent any       `json:"structuredContent,omitempty"`
	IsError           bool      `json:"isError,omitempty"`
}

func (c *Config) call(ctx context.Context, params json.RawMessage, caller Caller) (any, *rpcError) {
	var p callParams
	if err := json.Unmarshal(orEmpty(params), &p); err != nil {
		return nil, &rpcError{Code: CodeInvalidParams, Message: "invalid tools/call params: " + err.Error()}
	}
	t, ok := c.tools[p.Name]
	if !ok {
		return nil, &rpcError{Code: CodeInvalidParams, Message: fmt.Sprintf("unknown tool %q", p.Name)}
	}
	if p.Arguments == nil {
		p.Arguments = map[string]any{}
	}
	if err := t.schema.Validate(p.Arguments); err != nil {
		return nil, &rpcError{Code: CodeInvalidParams, Message: fmt.Sprintf("invalid arguments for tool %q: %v", p.Name, err)}
	}
	req, err := t.request(p.Arguments)
	if err != nil {
		return nil, &rpcError{Code: CodeInvalidParams, Message: fmt.Sprintf("invalid arguments for tool %q: %v", p.Name, err)}
	}
	res, err := caller.Call(ctx, req)
	if err != nil {
		return callResult{IsError: true, Content: []content{{Type: "text", Text: "the call did not complete: " + err.Error()}}}, nil
	}
	return toolResult(res), nil
}

// request places the arguments as the tool's route reads them.
func (t *tool) request(args map[string]any) (*CallRequest, error) {
	req := &CallRequest{Path: t.Path, Headers: [][2]string{{"content-type", "application/json"}, {"accept", "application/json"}}}
	if t.ArgumentsAsBody {
		b, err := json.Marshal(args)
		req.Body = b
		return req, err
	}
	body := map[string]any{}
	for _, a := range t.Args {
		v, ok := args[a.Name]
		if !ok {
			continue
		}
		if a.In == "body" {
			body[a.Name] = v
			continue
		}
		s, err := argText(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		switch a.In {
		case "path":
			s = url.PathEscape(s)
		case "query":
			s = url.QueryEscape(s)
		case "header":
			if strings.ContainsAny(s, "\r\n\x00") {
				return nil, fmt.Errorf("%s: a header value may not hold CR, LF or NUL", a.Name)
			}
		}
		req.Headers = append(req.Headers, [2]string{a.Header, s})
	}
	if len(body) > 0 {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		req.Body = b
	}
	return req, nil
}

// argHeaderPrefix prefixes the headers a call carries arguments in; the
// gateway names them so (its toolArgHeader) in each tool's route.
const argHeaderPrefix = "x-gluon-tool-arg-"

// notCarried are the MCP request's headers a call does not carry: MCP's
// own, and those of the MCP request's body.
var notCarried = map[string]bool{"content-length": true, "content-type": true, "accept": true, "accept-encoding": true,
	"mcp-session-id": true, "mcp-protocol-version": true, "last-event-id": true, "origin": true, "connection": true,
	"transfer-encoding": true, "te": true, "upgrade": true, "expect": true}

// Carries reports whether a call carries the MCP request's header name
// (its credentials, say); argument headers are the call's alone.
func Carries(name string) bool {
	name = strings.ToLower(name)
	return !notCarried[name] && !strings.HasPrefix(name, argHeaderPrefix) && !strings.HasPrefix(name, ":")
}

// argText is an argument as text in a path, query or header: strings as
// they are, anything else as JSON.
func argText(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// toolResult maps the route's response to a tool result: the body as
// text (and as structured content when it is a JSON object); a status of
// 400 or more is an error result that says the status, and for 429 when
// to retry.
func toolResult(res *CallResult) callResult {
	text := string(res.Body)
	var obj map[string]any
	structured := any(nil)
	if json.Unmarshal(res.Body, &obj) == nil {
		structured = obj
	}
	if res.Status < 400 {
		return callResult{Content: []content{{Type: "text", Text: text}}, StructuredContent: structured}
	}
	detail := map[string]any{"status": res.Status, "body": text}
	msg := fmt.Sprintf("HTTP %d %s: %s", res.Status, http.StatusText(res.Status), text)
	if res.Status == http.StatusTooManyRequests {
		retry := retryAfter(res.Header)
		detail["retryable"] = true
		if retry > 0 {
			detail["retryAfterSeconds"] = retry
			msg += fmt.Sprintf(" (rate limited: retry after %d s)", retry)
		} else {
			msg += " (rate limited: retry later)"
		}
	}
	return callResult{IsError: true, Content: []content{{Type: "text", Text: msg}}, StructuredContent: detail}
}

// retryAfter is when a rate-limited call may be retried, in seconds: the
// Retry-After header, else the rate limit's reset (x-ratelimit-reset).
func retryAfter(h http.Header) int {
	for _, name := range []string{"Retry-After", "X-Ratelimit-Reset"} {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Get(name))); err == nil && n >= 0 {
			return n
		}
	}
	return 0
}
