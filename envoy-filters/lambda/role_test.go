package lambda

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSTS answers AssumeRole with fresh credentials lasting lifetime, or
// with AccessDenied for roles not in allowed. It records who called.
type fakeSTS struct {
	lifetime time.Duration
	allowed  map[string]bool

	mu    sync.Mutex
	calls []url.Values
	auths []string
	keys  []string // issued access keys
}

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, form)
	f.auths = append(f.auths, r.Header.Get("Authorization")+" token="+r.Header.Get("X-Amz-Security-Token"))
	w.Header().Set("Content-Type", "text/xml")
	if !f.allowed[form.Get("RoleArn")] {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole</Message></Error></ErrorResponse>`)
		return
	}
	key := fmt.Sprintf("ASIATEMP%d", len(f.keys))
	f.keys = append(f.keys, key)
	fmt.Fprintf(w, `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>temp-secret</SecretAccessKey>`+
		`<SessionToken>temp-token-%s</SessionToken><Expiration>%s</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`,
		key, key, time.Now().Add(f.lifetime).UTC().Format("2006-01-02T15:04:05.000Z"))
}

func (f *fakeSTS) issued() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.keys...)
}

const roleARN = "arn:aws:iam::123456789012:role/invoker"

func roleFilter(t *testing.T, sts *fakeSTS) (*Filter, func(function, role string) *Route) {
	t.Helper()
	srv := httptest.NewServer(sts)
	t.Cleanup(srv.Close)
	f, err := NewFilter([]byte(creds))
	if err != nil {
		t.Fatal(err)
	}
	return f, func(function, role string) *Route {
		r, err := f.CompileRoute([]byte(fmt.Sprintf(`{"credentials": "default/aws", "region": "us-east-1", "host": "h", "functionName": %q, "roleArn": %q, "stsEndpoint": %q}`,
			function, role, srv.URL)))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// invoke runs a request through the route; it returns the access key that
// signed it and its security token, or the local reply.
func invoke(t *testing.T, r *Route) (key, token string, reply *LocalReply) {
	t.Helper()
	h := headers{":method": {"POST"}, ":path": {"/"}}
	if _, reply = r.NewStream().OnRequest(h, []byte(`{}`)); reply != nil {
		return "", "", reply
	}
	cred, _, _ := strings.Cut(strings.TrimPrefix(h["authorization"][0], "AWS4-HMAC-SHA256 Credential="), "/")
	return cred, h["x-amz-security-token"][0], nil
}

func TestAssumedRoleSignsAndIsSharedByRoutes(t *testing.T) {
	sts := &fakeSTS{lifetime: time.Hour, allowed: map[string]bool{roleARN: true}}
	_, route := roleFilter(t, sts)
	a, b := route("a", roleARN), route("b", roleARN)
	for _, r := range []*Route{a, b, a} {
		key, token, reply := invoke(t, r)
		if reply != nil || key != "ASIATEMP0" || token != "temp-token-ASIATEMP0" {
			t.Fatalf("signed by %q with token %q (reply %+v), want the role's temporary credentials", key, token, reply)
		}
	}
	if n := len(sts.issued()); n != 1 {
		t.Fatalf("the role was assumed %d times, want once for both routes", n)
	}
	// STS saw the upstream's own credentials, scoped to sts, and the role.
	if c := sts.calls[0]; c.Get("Action") != "AssumeRole" || c.Get("RoleArn") != roleARN || c.Get("RoleSessionName") != roleSessionName {
		t.Fatalf("AssumeRole call %v", c)
	}
	if auth := sts.auths[0]; !strings.Contains(auth, "Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/us-east-1/sts/aws4_request") || !strings.HasSuffix(auth, "token=token") {
		t.Fatalf("AssumeRole signed as %s", auth)
	}
}

func TestAssumedRoleRefreshesBeforeExpiry(t *testing.T) {
	sts := &fakeSTS{lifetime: 2 * time.Second, allowed: map[string]bool{roleARN: true}}
	_, route := roleFilter(t, sts)
	r := route("a", roleARN)
	first, _, _ := invoke(t, r)
	if again, _, _ := invoke(t, r); again != first {
		t.Fatalf("fresh credentials were not reused: %s then %s", first, again)
	}
	// Past three quarters of the lifetime (not yet expired), refreshed;
	// 200 ms of margin on either side.
	time.Sleep(1700 * time.Millisecond)
	if next, _, reply := invoke(t, r); reply != nil || next == first {
		t.Fatalf("not refreshed: %s then %s (%+v)", first, next, reply)
	}
}

func TestRoleRefusedIsA502NamingRoleAndCode(t *testing.T) {
	sts := &fakeSTS{lifetime: time.Hour, allowed: map[string]bool{}}
	_, route := roleFilter(t, sts)
	_, _, reply := invoke(t, route("a", roleARN))
	if reply == nil || reply.Status != http.StatusBadGateway || !strings.Contains(reply.Body, "assuming role "+roleARN) || !strings.Contains(reply.Body, "AccessDenied") {
		t.Fatalf("reply %+v", reply)
	}
	if strings.Contains(reply.Body, "secret") {
		t.Fatalf("the reply shows a secret: %s", reply.Body)
	}
}

func TestRoleConfigChecked(t *testing.T) {
	f, err := NewFilter([]byte(creds))
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []string{
		`{"credentials": "default/aws", "region": "r", "host": "h", "functionName": "f", "roleArn": "invoker"}`,
		`{"credentials": "default/aws", "region": "r", "host": "h", "functionName": "f", "roleArn": "` + roleARN + `", "stsEndpoint": "sts.local"}`,
	} {
		if _, err := f.CompileRoute([]byte(cfg)); err == nil {
			t.Errorf("%s: accepted", cfg)
		}
	}
}
