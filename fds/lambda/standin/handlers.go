package standin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"time"
)

// Echo returns the event it got.
func Echo(_ context.Context, _ string, payload []byte) ([]byte, error) {
	return payload, nil
}

// Fail returns a handler that always fails with the given errorType and
// errorMessage.
func Fail(errorType, message string) Handler {
	return func(context.Context, string, []byte) ([]byte, error) {
		return nil, &FunctionError{Type: errorType, Message: message}
	}
}

// Sleep returns a handler that waits d (or until its context ends, as a
// cut-off Lambda does), then echoes. With a Timeout shorter than d it
// makes Lambda's "Task timed out"; with a longer one, a merely slow
// function for testing a gateway's own timeout.
func Sleep(d time.Duration) Handler {
	return func(ctx context.Context, version string, payload []byte) ([]byte, error) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return Echo(ctx, version, payload)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// proxyEvent is the part of an API Gateway proxy event (REST API v1 or
// HTTP API payload format 2.0) APIGatewayEcho reads.
type proxyEvent struct {
	Version               string            `json:"version"`
	HTTPMethod            string            `json:"httpMethod"`
	Path                  string            `json:"path"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	Headers               map[string]string `json:"headers"`
	Body                  string            `json:"body"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
	RequestContext        struct {
		HTTP struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
}

// proxyResponse is what a proxy-integrated function answers.
type proxyResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// APIGatewayEcho reads an API Gateway proxy event (v1 or v2) and answers
// in the proxy response shape, status 200, with a JSON body describing the
// request it saw: method, path, query, headers, the decoded body and the
// version that ran. An event that is not a proxy event gets status 400.
func APIGatewayEcho(_ context.Context, version string, payload []byte) ([]byte, error) {
	var ev proxyEvent
	if err := json.Unmarshal(payload, &ev); err != nil || (ev.HTTPMethod == "" && ev.RequestContext.HTTP.Method == "") {
		return json.Marshal(proxyResponse{StatusCode: 400, Headers: map[string]string{"content-type": "text/plain"},
			Body: "not an API Gateway proxy event"})
	}
	seen := struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Query   map[string]string `json:"query"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
		Version string            `json:"version"`
	}{ev.HTTPMethod, ev.Path, ev.QueryStringParameters, ev.Headers, ev.Body, version}
	if ev.Version == "2.0" {
		seen.Method, seen.Path = ev.RequestContext.HTTP.Method, ev.RawPath
		q, err := url.ParseQuery(ev.RawQueryString)
		if err != nil {
			return nil, fmt.Errorf("rawQueryString: %w", err)
		}
		seen.Query = map[string]string{}
		for k := range q {
			seen.Query[k] = q.Get(k)
		}
	}
	if ev.IsBase64Encoded {
		raw, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		seen.Body = string(raw)
	}
	body, err := json.Marshal(seen)
	if err != nil {
		return nil, err
	}
	return json.Marshal(proxyResponse{StatusCode: 200,
		Headers: map[string]string{"content-type": "application/json", "x-lambda-version": version}, Body: string(body)})
}
