package basicauth

import (
	"crypto/sha1" //nolint:gosec // the {SHA} scheme under test
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// mapHeaders is a lower-case header map, as Envoy's.
type mapHeaders map[string]string

func (m mapHeaders) Get(k string) (string, bool) { v, ok := m[strings.ToLower(k)]; return v, ok }
func (m mapHeaders) Set(k, v string)             { m[strings.ToLower(k)] = v }
func (m mapHeaders) Add(k, v string)             { m.Set(k, v) }
func (m mapHeaders) Del(k string)                { delete(m, strings.ToLower(k)) }

func users(t *testing.T) string {
	t.Helper()
	bc, err := bcrypt.GenerateFromPassword([]byte("carol-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte("dave-pass")) //nolint:gosec // the {SHA} scheme
	return "# users\ncarol:" + string(bc) + "\ndave:{SHA}" + base64.StdEncoding.EncodeToString(sum[:]) + "\n"
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestOnRequest: bcrypt and {SHA} users with their passwords are admitted
// (twice: the second from the checked-password cache) and named upstream;
// a wrong password, an unknown user, no or another scheme's credentials
// get 401 with a Basic challenge for the resource, as Envoy words it.
func TestOnRequest(t *testing.T) {
	r, err := CompileRoute([]byte(`{"users": ` + jsonString(users(t)) + `, "forwardUsernameHeader": "x-user"}`))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		for user, pass := range map[string]string{"carol": "carol-pass", "dave": "dave-pass"} {
			h := mapHeaders{"authorization": basic(user, pass), "x-user": "forged"}
			if lr := r.OnRequest(h); lr != nil || h["x-user"] != user {
				t.Errorf("%s: %+v, x-user %q", user, lr, h["x-user"])
			}
		}
	}
	for name, c := range map[string]struct{ auth, msg string }{
		"wrong password": {basic("carol", "nope"), WrongCredentials},
		"unknown user":   {basic("eve", "carol-pass"), WrongCredentials},
		"none":           {"", MissingCredentials},
		"bearer":         {"Bearer abc", MissingCredentials},
		"not base64":     {"Basic !!!", MissingCredentials},
	} {
		h := mapHeaders{":scheme": "https", ":authority": "api.test", ":path": "/a/b?c=d"}
		if c.auth != "" {
			h["authorization"] = c.auth
		}
		lr := r.OnRequest(h)
		if lr == nil || lr.Status != 401 || lr.Body != c.msg || lr.Headers["www-authenticate"] != `Basic realm="https://api.test/a/b"` {
			t.Errorf("%s: %+v", name, lr)
		}
	}
}

// TestParseHtpasswdErrors: a file Gluon cannot check is refused, naming
// the line and never the hash.
func TestParseHtpasswdErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "no users",
		"alice":                  "line 1 is not user:hash",
		"# c\nbob:$apr1$xyz$abc": "line 2: only bcrypt and {SHA}",
	} {
		_, err := ParseHtpasswd(in)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "$apr1") {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	if _, err := CompileRoute([]byte(`{"users": ""}`)); err == nil || !strings.Contains(err.Error(), PluginName) {
		t.Errorf("a route without users: %v", err)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
