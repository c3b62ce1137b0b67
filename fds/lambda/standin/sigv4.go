package standin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	amzDateFormat = "20060102T150405Z"
	// maxSkew is how far a request's X-Amz-Date may be from the stand-in's
	// clock, as AWS allows.
	maxSkew = 5 * time.Minute
)

// authorization is a parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." header.
type authorization struct {
	accessKey, date, region, service, terminator string
	signedHeaders                                []string
	signature                                    string
}

func parseAuthorization(h string) (authorization, bool) {
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		return authorization{}, false
	}
	var a authorization
	var credential, signed string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			credential = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			a.signature = v
		}
	}
	scope := strings.Split(credential, "/")
	if len(scope) != 5 || signed == "" || a.signature == "" {
		return authorization{}, false
	}
	a.accessKey, a.date, a.region, a.service, a.terminator = scope[0], scope[1], scope[2], scope[3], scope[4]
	a.signedHeaders = strings.Split(signed, ";")
	return a, true
}

// verify checks the request's SigV4 signature the way AWS does: the key
// must be known (with its session token, if it has one) and not expired,
// the date recent, the credential scope
// <date>/<region>/<service>/aws4_request (service: lambda or sts), and the
// signature must be the one the SDK's own signer computes over the same
// method, path, query, signed headers and the SHA-256 of the body actually
// received (Lambda and STS requests carry no X-Amz-Content-Sha256: the
// payload hash is always recomputed here, so a tampered body fails).
func (s *Server) verify(r *http.Request, body []byte, service string) *apiError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return &apiError{status: http.StatusForbidden, code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"}
	}
	a, ok := parseAuthorization(h)
	if !ok {
		return &apiError{status: http.StatusBadRequest, code: "IncompleteSignatureException",
			message: "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."}
	}
	s.mu.Lock()
	cred, known := s.credentials[a.accessKey]
	s.mu.Unlock()
	if !known || r.Header.Get("X-Amz-Security-Token") != cred.sessionToken {
		return &apiError{status: http.StatusForbidden, code: "UnrecognizedClientException",
			message: "The security token included in the request is invalid."}
	}
	if !cred.expires.IsZero() && time.Now().After(cred.expires) {
		return &apiError{status: http.StatusForbidden, code: "ExpiredTokenException",
			message: "The security token included in the request is expired"}
	}
	when, err := time.Parse(amzDateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return &apiError{status: http.StatusBadRequest, code: "IncompleteSignatureException",
			message: "Authorization header requires existence of a valid 'X-Amz-Date' header."}
	}
	if e := checkTime(when, time.Now().UTC()); e != nil {
		return e
	}
	switch {
	case a.date != when.Format("20060102"):
		return invalidSignature(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'", a.date, when.Format("20060102")))
	case a.region != s.region:
		return invalidSignature(fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", a.region))
	case a.service != service:
		return invalidSignature(fmt.Sprintf("Credential should be scoped to correct service: '%s'.", service))
	case a.terminator != "aws4_request":
		return invalidSignature("Credential should be scoped with a valid terminator: 'aws4_request'.")
	case !slices.Contains(a.signedHeaders, "host"):
		return invalidSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	want, err := s.expected(r, body, a, cred, service, when)
	if err != nil {
		return invalidSignature(err.Error())
	}
	if !hmac.Equal([]byte(want.signature), []byte(a.signature)) ||
		!slices.Equal(want.signedHeaders, a.signedHeaders) {
		return invalidSignature("The request signature we calculated does not match the signature you provided. " +
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return nil
}

func checkTime(when, now time.Time) *apiError {
	switch {
	case when.Before(now.Add(-maxSkew)):
		return invalidSignature(fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)",
			when.Format(amzDateFormat), now.Add(-maxSkew).Format(amzDateFormat), now.Format(amzDateFormat)))
	case when.After(now.Add(maxSkew)):
		return invalidSignature(fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)",
			when.Format(amzDateFormat), now.Add(maxSkew).Format(amzDateFormat), now.Format(amzDateFormat)))
	}
	return nil
}

// expected signs a copy of the request holding only what the client said
// it signed, with the SDK's signer and the stand-in's copy of the secret.
func (s *Server) expected(r *http.Request, body []byte, a authorization, cred credential, service string, when time.Time) (authorization, error) {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	req := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	for _, name := range a.signedHeaders {
		switch name {
		case "host": // the signer always signs req.Host
		case "content-length": // the signer signs ContentLength when > 0
			req.ContentLength = r.ContentLength
		default:
			req.Header[textproto.CanonicalMIMEHeaderKey(name)] = r.Header.Values(name)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: a.accessKey, SecretAccessKey: cred.secret, SessionToken: cred.sessionToken}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, req, hex.EncodeToString(sum[:]), service, s.region, when); err != nil {
		return authorization{}, fmt.Errorf("signing: %w", err)
	}
	want, ok := parseAuthorization(req.Header.Get("Authorization"))
	if !ok {
		return authorization{}, fmt.Errorf("the signer produced an unreadable Authorization header")
	}
	return want, nil
}
