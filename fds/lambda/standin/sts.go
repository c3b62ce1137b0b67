package standin

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// AssumedRole is one set of temporary credentials AssumeRole issued, for
// tests that check who signed what and that secrets are not shown.
type AssumedRole struct {
	RoleArn, RoleSessionName string
	// SourceAccessKey is the key that assumed the role.
	SourceAccessKey                            string
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

// AllowAssumeRole lets accessKey assume roleArn; every other AssumeRole is
// AccessDenied, as without a matching trust policy and sts:AssumeRole
// permission.
func (s *Server) AllowAssumeRole(accessKey, roleArn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.assumable[accessKey] == nil {
		s.assumable[accessKey] = map[string]bool{}
	}
	s.assumable[accessKey][roleArn] = true
}

// AssumedRoles returns the temporary credentials issued so far, in order.
func (s *Server) AssumedRoles() []AssumedRole {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AssumedRole(nil), s.assumed...)
}

// stsCodes are STS's names for the signature errors verify reports with
// Lambda's.
var stsCodes = map[string]string{
	"MissingAuthenticationTokenException": "MissingAuthenticationToken",
	"IncompleteSignatureException":        "IncompleteSignature",
	"UnrecognizedClientException":         "InvalidClientTokenId",
	"InvalidSignatureException":           "SignatureDoesNotMatch",
	"ExpiredTokenException":               "ExpiredToken",
}

// serveSTS answers the STS query API (form-encoded POST /): only
// AssumeRole, signed for service "sts" with credentials the stand-in knows.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, body []byte, reqID string) {
	if e := s.verify(r, body, "sts"); e != nil {
		if code, ok := stsCodes[e.code]; ok {
			e.code = code
		}
		e.writeXML(w, reqID)
		return
	}
	form, err := url.ParseQuery(string(body))
	switch {
	case r.Method != http.MethodPost || err != nil:
		stsError(http.StatusBadRequest, "InvalidAction", "Could not find operation for this request").writeXML(w, reqID)
	case form.Get("Action") != "AssumeRole" || form.Get("Version") != "2011-06-15":
		stsError(http.StatusBadRequest, "InvalidAction",
			fmt.Sprintf("Could not find operation %s for version %s", form.Get("Action"), form.Get("Version"))).writeXML(w, reqID)
	default:
		accessKey, _ := parseAuthorization(r.Header.Get("Authorization")) // verified above
		if e := s.assumeRole(w, accessKey.accessKey, form, reqID); e != nil {
			e.writeXML(w, reqID)
		}
	}
}

var (
	roleARN     = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)
	sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

func (s *Server) assumeRole(w http.ResponseWriter, accessKey string, form url.Values, reqID string) *apiError {
	arn, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	m := roleARN.FindStringSubmatch(arn)
	if m == nil {
		return stsError(http.StatusBadRequest, "ValidationError", fmt.Sprintf("%s is invalid", arn))
	}
	if !sessionName.MatchString(session) {
		return stsError(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
	}
	lifetime := time.Hour
	if d := form.Get("DurationSeconds"); d != "" {
		secs, err := strconv.Atoi(d)
		if err != nil || secs < 900 || secs > 43200 {
			return stsError(http.StatusBadRequest, "ValidationError",
				"1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200")
		}
		lifetime = time.Duration(secs) * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.assumable[accessKey][arn] {
		// AWS names the IAM user, never the access key; the stand-in's keys
		// belong to no named user.
		return stsError(http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: arn:aws:iam::%s:user/standin is not authorized to perform: sts:AssumeRole on resource: %s", s.account, arn))
	}
	if s.roleLifetime > 0 {
		lifetime = s.roleLifetime
	}
	// STS gives expirations to the second; the stand-in keeps the exact
	// one it announced.
	issued := AssumedRole{RoleArn: arn, RoleSessionName: session, SourceAccessKey: accessKey,
		AccessKeyID: "ASIA" + strings.ToUpper(randomText(12)), SecretAccessKey: randomText(30), SessionToken: randomText(120),
		Expiration: time.Now().Add(lifetime).UTC().Truncate(time.Millisecond)}
	s.credentials[issued.AccessKeyID] = credential{secret: issued.SecretAccessKey, sessionToken: issued.SessionToken, expires: issued.Expiration}
	s.assumed = append(s.assumed, issued)
	partition, account, role := m[1], m[2], m[3]
	writeXML(w, http.StatusOK, assumeRoleResponse{
		Xmlns: stsNamespace,
		Result: assumeRoleResult{
			User: assumedRoleUser{
				ID:  "AROA" + strings.ToUpper(randomText(12)) + ":" + session,
				ARN: fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, account, role, session),
			},
			Credentials: stsCredentials{AccessKeyID: issued.AccessKeyID, SecretAccessKey: issued.SecretAccessKey,
				SessionToken: issued.SessionToken, Expiration: issued.Expiration.Format("2006-01-02T15:04:05.000Z")},
		},
		RequestID: reqID,
	})
	return nil
}

// randomText is base64url of n random bytes: key IDs, secrets, tokens.
func randomText(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // never fails
	return strings.NewReplacer("-", "Z", "_", "Y").Replace(base64.RawURLEncoding.EncodeToString(b))
}
