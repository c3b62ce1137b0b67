package lambda

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ResponseNeedsBody says whether OnResponse needs the body: to unwrap a
// proxy response, and to explain a failure.
func (s *Stream) ResponseNeedsBody() bool { return s.route != nil }

// OnResponse turns Lambda's answer into the client's response: a function
// error becomes 502, throttling 429 with Retry-After, a refused call
// (credentials, unknown function) 502 naming AWS's error, and a proxy
// result (API Gateway / ALB) the response it describes.
func (s *Stream) OnResponse(h Headers, body []byte) ([]byte, bool, *LocalReply) {
	status, _ := strconv.Atoi(get(h, ":status"))
	if status >= 400 && !fromLambda(h) {
		return nil, false, nil // the proxy's own reply (a timeout, no upstream): as it is
	}
	switch {
	case status == http.StatusTooManyRequests:
		retry := get(h, "retry-after")
		if retry == "" {
			retry = "1"
		}
		return nil, false, &LocalReply{Status: http.StatusTooManyRequests, Body: "Lambda throttled the function: " + awsMessage(body) + "\n", Headers: map[string]string{"retry-after": retry}}
	case status >= 400:
		return nil, false, &LocalReply{Status: http.StatusBadGateway, Body: fmt.Sprintf("Lambda refused the invocation (%d %s): %s\n", status, awsErrorType(h, body), awsMessage(body))}
	case get(h, "x-amz-function-error") != "":
		return nil, false, s.functionFailed(h, body)
	case status == http.StatusAccepted || status == http.StatusNoContent:
		return nil, false, nil // async and dry-run invocations answer as Lambda did
	case s.route.cfg.UnwrapAsAPIGateway || s.route.cfg.UnwrapAsALB:
		return unwrap(h, body, s.route.cfg.WrapAsAPIGateway == "v2")
	}
	return nil, false, nil
}

// functionFailed answers a function's error: by default a generic 502
// naming Lambda's request id, as the error's type, message and stack trace
// are the function's internals; the log gets them (Detail).
func (s *Stream) functionFailed(h Headers, body []byte) *LocalReply {
	if s.route.cfg.PassFunctionErrors {
		return &LocalReply{Status: http.StatusBadGateway, Body: "the Lambda function failed: " + string(body) + "\n", Headers: map[string]string{"content-type": "application/json"}}
	}
	id := get(h, "x-amzn-requestid")
	return &LocalReply{Status: http.StatusBadGateway, Body: "the Lambda function failed (request id " + id + ")\n",
		Detail: fmt.Sprintf("Lambda function %s failed (%s, request id %s): %s", s.route.cfg.FunctionName, get(h, "x-amz-function-error"), id, body)}
}

// fromLambda tells Lambda's answers from replies the proxy made itself
// (Envoy's encoder filters see both): AWS marks every answer with a request
// id, and every error with its type.
func fromLambda(h Headers) bool {
	return get(h, "x-amzn-requestid") != "" || get(h, "x-amzn-errortype") != ""
}

// proxyResult is what an API Gateway or ALB integration returns.
type proxyResult struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	// Cookies are payload 2.0's Set-Cookie values.
	Cookies []string `json:"cookies"`
}

// unwrap reads the function's result as a proxy response. With payload
// format 2.0, a result that is not an object with a statusCode is a 200
// whose JSON body is the result, and cookies become Set-Cookie headers, as
// API Gateway's HTTP APIs do.
func unwrap(h Headers, body []byte, v2 bool) ([]byte, bool, *LocalReply) {
	var r proxyResult
	err := json.Unmarshal(body, &r)
	if v2 && (err != nil || r.StatusCode == 0) && json.Valid(body) && !hasStatusCode(body) {
		r = proxyResult{StatusCode: http.StatusOK, Headers: map[string]string{"content-type": "application/json"}, Body: string(body)}
		err = nil
	}
	if err != nil || r.StatusCode == 0 {
		return nil, false, &LocalReply{Status: http.StatusBadGateway, Body: "the Lambda function's result is not an API Gateway/ALB proxy response (want statusCode, headers, body)\n"}
	}
	out := []byte(r.Body)
	if r.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			return nil, false, &LocalReply{Status: http.StatusBadGateway, Body: "the Lambda function's result says isBase64Encoded but its body is not base64\n"}
		}
		out = decoded
	}
	var drop []string
	h.Range(func(k, _ string) bool {
		if !strings.HasPrefix(k, ":") {
			drop = append(drop, k)
		}
		return true
	})
	for _, k := range drop {
		h.Del(k)
	}
	h.Set(":status", strconv.Itoa(r.StatusCode))
	for k, v := range r.Headers {
		h.Set(strings.ToLower(k), v)
	}
	for k, vs := range r.MultiValueHeaders {
		h.Del(strings.ToLower(k))
		for _, v := range vs {
			h.Add(strings.ToLower(k), v)
		}
	}
	for _, c := range r.Cookies {
		h.Add("set-cookie", c)
	}
	h.Set("content-length", strconv.Itoa(len(out)))
	return out, true, nil
}

// hasStatusCode says whether a JSON result is an object with a statusCode
// member (of whatever value: one that is not a number is malformed, not a
// plain result).
func hasStatusCode(body []byte) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return false
	}
	_, ok := obj["statusCode"]
	return ok
}

func get(h Headers, k string) string {
	v, _ := h.Get(k)
	return v
}

// awsMessage pulls the message out of an AWS JSON error body.
func awsMessage(body []byte) string {
	var e struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Message+e.Message2 != "" {
		return e.Message + e.Message2
	}
	return strings.TrimSpace(string(body))
}

func awsErrorType(h Headers, body []byte) string {
	if t := get(h, "x-amzn-errortype"); t != "" {
		t, _, _ = strings.Cut(t, ":")
		return t
	}
	var e struct {
		Type string `json:"__type"`
	}
	_ = json.Unmarshal(body, &e) // a body that is not JSON has no type to name
	return e.Type
}
