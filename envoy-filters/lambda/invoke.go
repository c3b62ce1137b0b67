package lambda

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gluon-gateway/gluon/transform"
)

// LocalReply is what the filter answers instead of forwarding.
type LocalReply struct {
	Status  int
	Body    string
	Headers map[string]string
	// Detail, when set, is for the proxy's log, not the client.
	Detail string
}

// Stream is one request's pass through the filter.
type Stream struct {
	route *Route
	// client is the downstream connection, as the proxy knows it.
	client Client
	// now is the signing clock (tests set it).
	now func() time.Time
}

// NewStream starts a request on a route (nil: the route calls no function).
func (r *Route) NewStream() *Stream { return &Stream{route: r, now: time.Now} }

// Function names the function the stream calls: the upstream whose
// credentials sign it ("ns/name") and the function, with its qualifier.
func (s *Stream) Function() (upstream, function string) {
	if s.route == nil {
		return "", ""
	}
	f := s.route.cfg.FunctionName
	if q := s.route.cfg.Qualifier; q != "" {
		f += ":" + q
	}
	return s.route.cfg.Credentials, f
}

// Client is the downstream connection of a request: the address of the
// client, as the proxy determined it (its peer, or the trusted
// X-Forwarded-For hop), and the HTTP protocol. API Gateway events carry
// them; a header the client sent never stands in for them.
type Client struct {
	Address  string // "ip:port" or "ip"
	Protocol string // "HTTP/1.1", "HTTP/2"…
	// ReceivedNames are the request's header names the client did not
	// send in canonical form, lower case → as sent, when the proxy knows
	// them (the data plane's HTTP/1 server does; Envoy's filter API does
	// not tell).
	ReceivedNames map[string]string
}

// receivedName is a header name as the client spelled it, for payload 1.0
// events: HTTP/2 and HTTP/3 names travel in lower case, HTTP/1 names as
// recorded or, when not recorded, canonical, as most clients send them.
func (c Client) receivedName(lower string) string {
	if name, ok := c.ReceivedNames[lower]; ok {
		return name
	}
	if strings.HasPrefix(c.Protocol, "HTTP/2") || strings.HasPrefix(c.Protocol, "HTTP/3") {
		return lower
	}
	return textproto.CanonicalMIMEHeaderKey(lower)
}

// SetClient tells the stream who the client is, before OnRequest.
func (s *Stream) SetClient(c Client) { s.client = c }

// Active says whether the stream invokes a function; the filter buffers the
// request (the body is signed) and the response (it may be unwrapped).
func (s *Stream) Active() bool { return s.route != nil }

// MaxBody bounds what the filter buffers: Lambda's own payload limit.
func (s *Stream) MaxBody() int { return 6 << 20 }

// signers are SigV4 signers by secret key. The SDK's signer caches the
// key it derives per service and region, reusing it while the access key
// id and the day are the same: one signer for all would go on signing with
// a secret rotated away under the same id (wrong → right keeps failing,
// right → wrong keeps succeeding) until the next UTC day.
var signers = signerCache{bySecret: map[[32]byte]*v4.Signer{}}

// maxSigners bounds the cache: a secret rotated away leaves its signer
// behind until the cache is full and starts again.
const maxSigners = 256

type signerCache struct {
	mu       sync.Mutex
	bySecret map[[32]byte]*v4.Signer
}

func (c *signerCache) get(creds aws.Credentials) *v4.Signer {
	key := sha256.Sum256([]byte(creds.AccessKeyID + "\x00" + creds.SecretAccessKey))
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.bySecret[key]
	if !ok {
		if len(c.bySecret) >= maxSigners {
			clear(c.bySecret)
		}
		s = v4.NewSigner()
		c.bySecret[key] = s
	}
	return s
}

// signedHeaders are the only request headers that reach Lambda: the
// client's headers travel inside an API Gateway event when asked for, and
// whatever the proxy adds after signing is not among the signed ones.
var signedHeaders = []string{"content-type", "x-amz-invocation-type", "x-amz-log-type"}

// Headers is a header map the filter can also walk: Envoy's api.HeaderMap
// and the embedded data plane's adapter are.
type Headers interface {
	transform.Headers
	Range(func(key, value string) bool)
}

// OnRequest turns the request into a signed Invoke call.
func (s *Stream) OnRequest(h Headers, body []byte) ([]byte, *LocalReply) {
	r := s.route
	payload := body
	if wrap := r.eventFormat(); wrap != "" {
		var err error
		if payload, err = wrapEvent(wrap, s.eventContext(h), h, body); err != nil {
			return nil, &LocalReply{Status: http.StatusBadRequest, Body: "cannot wrap the request for Lambda: " + err.Error() + "\n"}
		}
	}
	if len(payload) == 0 {
		payload = []byte("{}") // Invoke wants a JSON document
	}
	clearRequestHeaders(h)
	invocation := "RequestResponse"
	if r.cfg.InvocationStyle == "async" {
		invocation = "Event"
	}
	h.Set(":method", http.MethodPost)
	h.Set(":path", r.path)
	h.Set(":authority", r.cfg.Host)
	h.Set("content-type", "application/json")
	h.Set("x-amz-invocation-type", invocation)
	h.Set("x-amz-log-type", "None")
	creds, err := r.credentials()
	if err != nil {
		// The gateway could not get what its upstream needs: a bad gateway.
		return nil, &LocalReply{Status: http.StatusBadGateway, Body: err.Error() + "\n"}
	}
	if err := s.sign(h, creds, payload); err != nil {
		return nil, &LocalReply{Status: http.StatusInternalServerError, Body: "signing the Lambda request failed: " + err.Error() + "\n"}
	}
	h.Set("content-length", fmt.Sprint(len(payload)))
	return payload, nil
}

// clearRequestHeaders drops every header but the pseudo-headers.
func clearRequestHeaders(h Headers) {
	var names []string
	h.Range(func(k, _ string) bool {
		if !strings.HasPrefix(k, ":") {
			names = append(names, k)
		}
		return true
	})
	for _, n := range names {
		h.Del(n)
	}
}

// sign adds SigV4 headers, computed by aws-sdk-go-v2's signer over the
// request as Lambda will see it.
func (s *Stream) sign(h Headers, creds aws.Credentials, payload []byte) error {
	r := s.route
	u, err := url.Parse("https://" + r.cfg.Host + r.path)
	if err != nil {
		return fmt.Errorf("invoke URL: %w", err)
	}
	req := &http.Request{Method: http.MethodPost, URL: u, Host: r.cfg.Host, Header: http.Header{}}
	for _, name := range signedHeaders {
		if v, ok := h.Get(name); ok {
			req.Header.Set(name, v)
		}
	}
	sum := sha256.Sum256(payload)
	if err := signers.get(creds).SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "lambda", r.cfg.Region, s.now()); err != nil {
		return err
	}
	for _, name := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
		if v := req.Header.Get(name); v != "" {
			h.Set(strings.ToLower(name), v)
		}
	}
	return nil
}
