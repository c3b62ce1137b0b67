package lambda

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// eventContext is what an event's requestContext tells of the request
// beyond its headers.
type eventContext struct {
	sourceIP, protocol, requestID, accountID, domainName string
	region, function                                     string
	time                                                 time.Time
	headerName                                           func(lower string) string // as received (payload 1.0)
}

// eventContext describes the request: the client as the proxy knows it
// (never X-Forwarded-For as the client sent it), the proxy's request id
// (a new one when there is none) and the function's account.
func (s *Stream) eventContext(h Headers) eventContext {
	host, _ := h.Get(":authority")
	id, _ := h.Get("x-request-id")
	if id == "" {
		id = newRequestID()
	}
	ip := s.client.Address
	if addr, err := netip.ParseAddrPort(ip); err == nil {
		ip = addr.Addr().Unmap().String()
	}
	return eventContext{sourceIP: ip, protocol: cmp.Or(s.client.Protocol, "HTTP/1.1"), requestID: id,
		accountID: s.route.cfg.AccountID, domainName: host, region: s.route.cfg.Region, function: s.route.cfg.FunctionName, time: s.now(),
		headerName: s.client.receivedName}
}

// newRequestID is a random UUID (version 4), as API Gateway's ids are.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on Linux
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// wrapEvent builds an API Gateway proxy event (payload format 1.0 for
// "v1", 2.0 for "v2") from the request, as API Gateway hands it to Lambda.
func wrapEvent(version string, ctx eventContext, h Headers, body []byte) ([]byte, error) {
	method, _ := h.Get(":method")
	target, _ := h.Get(":path")
	path, rawQuery, _ := strings.Cut(target, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	multi := map[string][]string{}
	h.Range(func(k, v string) bool {
		if !strings.HasPrefix(k, ":") {
			multi[k] = append(multi[k], v)
		}
		return true
	})
	if host, ok := h.Get(":authority"); ok {
		multi["host"] = []string{host}
	}
	encoded, isBase64 := eventBody(multi["content-type"], body)
	switch version {
	case "v2":
		return json.Marshal(eventV2(ctx, method, path, rawQuery, query, multi, encoded, isBase64))
	case formatALB, formatALBMulti:
		return json.Marshal(eventALB(ctx, version == formatALBMulti, method, path, rawQuery, multi, encoded, isBase64))
	}
	return json.Marshal(eventV1(ctx, method, path, query, multi, encoded, isBase64))
}

// The ALB event formats: a target group's, without and with multi-value
// headers.
const (
	formatALB      = "alb"
	formatALBMulti = "alb-multi"
)

// eventFormat is the event the route wraps requests in: an API Gateway
// payload version, an ALB format, or none ("").
func (r *Route) eventFormat() string {
	switch {
	case r.cfg.WrapAsALB && r.cfg.ALBMultiValueHeaders:
		return formatALBMulti
	case r.cfg.WrapAsALB:
		return formatALB
	}
	return r.cfg.WrapAsAPIGateway
}

// eventALB is an ALB target group's event: query values as the client
// sent them (ALB does not decode them), headers in lower case, the last
// value of each unless the target group has multi-value headers on.
func eventALB(ctx eventContext, multiValue bool, method, path, rawQuery string, multi map[string][]string, body *string, isBase64 bool) map[string]any {
	query := map[string][]string{}
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair != "" {
			k, v, _ := strings.Cut(pair, "=")
			query[k] = append(query[k], v)
		}
	}
	ev := map[string]any{
		"requestContext": map[string]any{"elb": map[string]any{
			"targetGroupArn": "arn:aws:elasticloadbalancing:" + ctx.region + ":" + ctx.accountID + ":targetgroup/gluon/" + ctx.function}},
		"httpMethod": method, "path": path, "body": cmp.Or(body, new("")), "isBase64Encoded": isBase64,
	}
	if multiValue {
		ev["multiValueQueryStringParameters"], ev["multiValueHeaders"] = query, multi
		return ev
	}
	single, headers := map[string]string{}, map[string]string{}
	for k, vs := range query {
		single[k] = vs[len(vs)-1]
	}
	for k, vs := range multi {
		headers[k] = vs[len(vs)-1]
	}
	ev["queryStringParameters"], ev["headers"] = single, headers
	return ev
}

func eventV1(ctx eventContext, method, path string, query url.Values, multi map[string][]string, body *string, isBase64 bool) map[string]any {
	// Payload 1.0 keeps header names as the client spelled them, and
	// handlers look them up that way (headers["Content-Type"]).
	single, received := map[string]string{}, make(map[string][]string, len(multi))
	for k, vs := range multi {
		k = ctx.headerName(k)
		single[k] = vs[len(vs)-1] // API Gateway keeps the last value
		received[k] = vs
	}
	var qs map[string]string
	var mqs map[string][]string
	if len(query) > 0 {
		qs, mqs = map[string]string{}, map[string][]string(query)
		for k, vs := range query {
			qs[k] = vs[len(vs)-1]
		}
	}
	return map[string]any{
		"resource": "/{proxy+}", "path": path, "httpMethod": method,
		"headers": single, "multiValueHeaders": received,
		"queryStringParameters": qs, "multiValueQueryStringParameters": mqs,
		"pathParameters": map[string]string{"proxy": strings.TrimPrefix(path, "/")}, "stageVariables": nil,
		"requestContext": map[string]any{
			"resourcePath": "/{proxy+}", "httpMethod": method, "path": path, "stage": "$default",
			"requestId": ctx.requestID, "accountId": ctx.accountID, "domainName": ctx.domainName,
			"protocol": ctx.protocol, "requestTimeEpoch": ctx.time.UnixMilli(),
			"identity": map[string]any{"sourceIp": ctx.sourceIP, "userAgent": first(multi["user-agent"])},
		},
		"body": body, "isBase64Encoded": isBase64,
	}
}

func eventV2(ctx eventContext, method, path, rawQuery string, query url.Values, multi map[string][]string, body *string, isBase64 bool) map[string]any {
	headers := map[string]string{}
	var cookies []string
	for k, vs := range multi {
		if k == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					cookies = append(cookies, strings.TrimSpace(c))
				}
			}
			continue
		}
		headers[k] = strings.Join(vs, ",") // payload 2.0 joins repeated headers
	}
	var qs map[string]string
	if len(query) > 0 {
		qs = map[string]string{}
		for k, vs := range query {
			qs[k] = strings.Join(vs, ",")
		}
	}
	return map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": rawQuery,
		"cookies": cookies, "headers": headers, "queryStringParameters": qs,
		"requestContext": map[string]any{
			"routeKey": "$default", "stage": "$default",
			"requestId": ctx.requestID, "accountId": ctx.accountID, "domainName": ctx.domainName,
			"domainPrefix": strings.SplitN(ctx.domainName, ".", 2)[0],
			"time":         ctx.time.UTC().Format("02/Jan/2006:15:04:05 -0700"), "timeEpoch": ctx.time.UnixMilli(),
			"http": map[string]any{"method": method, "path": path, "protocol": ctx.protocol, "sourceIp": ctx.sourceIP, "userAgent": first(multi["user-agent"])},
		},
		"body": body, "isBase64Encoded": isBase64,
	}
}

// eventBody is the body as events carry it: text as is, anything else
// (or text that is not UTF-8) base64-encoded; nil when there is none.
func eventBody(contentType []string, body []byte) (*string, bool) {
	if len(body) == 0 {
		return nil, false
	}
	if utf8.Valid(body) && textual(first(contentType)) {
		s := string(body)
		return &s, false
	}
	s := base64.StdEncoding.EncodeToString(body)
	return &s, true
}

func textual(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || mt == "application/xml" ||
		mt == "application/x-www-form-urlencoded" || mt == "application/javascript" ||
		strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func pathEscape(s string) string { return url.PathEscape(s) }
