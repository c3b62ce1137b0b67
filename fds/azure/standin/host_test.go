package standin

import (
	"io"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

func hostGet(t *testing.T, s *Server, method, path string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.HostURL()+path, nil)
	req.Host = "petstore.azurewebsites.net"
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHostAuthLevels(t *testing.T) {
	s := newStandin(t, Options{})
	k, _ := s.Keys("petstore")
	cases := []struct {
		method, path, key string
		want              int
	}{
		{"GET", "/api/Health", "", 200},
		{"GET", "/api/pets/7", "", 401},
		{"GET", "/api/pets/7", "nope", 401},
		{"GET", "/api/pets/7", k.Function["GetPet"], 200},
		{"GET", "/api/pets", k.Host, 200},
		{"GET", "/api/pets/7", k.Master, 200},
		{"GET", "/api/pets/7", k.Function["AddPet"], 401}, // another function's key
		{"DELETE", "/api/pets/7", k.Master, 404},
		{"POST", "/api/pets", k.Function["AddPet"], 200},
		{"GET", "/api/Admin", k.Host, 401},
		{"GET", "/api/Admin", k.Master, 200},
		{"GET", "/api/Nightly", k.Master, 404},
		{"GET", "/api/pets/7/8", k.Master, 404},
	}
	for _, c := range cases {
		st, _ := hostGet(t, s, c.method, c.path, map[string]string{"x-functions-key": c.key})
		if st != c.want {
			t.Errorf("%s %s: got %d, want %d", c.method, c.path, st, c.want)
		}
	}
	if st, body := hostGet(t, s, "GET", "/api/pets/42?code="+k.Function["GetPet"], nil); st != 200 || body != "hello 42" {
		t.Errorf("?code=: %d %q", st, body)
	}
	if r := s.LastHostRequest(); r == nil || r.Function != "GetPet" || r.Status != 200 {
		t.Errorf("observed %+v", r)
	}
	s.RevokeKey("petstore", "GetPet")
	if st, _ := hostGet(t, s, "GET", "/api/pets/7", map[string]string{"x-functions-key": k.Function["GetPet"]}); st != 401 {
		t.Errorf("revoked key: %d", st)
	}
	k2, _ := s.Keys("petstore")
	if st, _ := hostGet(t, s, "GET", "/api/pets/7", map[string]string{"x-functions-key": k2.Function["GetPet"]}); st != 200 {
		t.Errorf("new key: %d", st)
	}
}

func TestHostRequireAAD(t *testing.T) {
	s := newStandin(t, Options{})
	if err := s.AddApp(App{Name: "secure", RequireAAD: true, Functions: []Function{
		{Name: "Hi", AuthLevel: AuthAnonymous, Handler: ok}}}); err != nil {
		t.Fatal(err)
	}
	get := func(token string) int {
		req, _ := http.NewRequest("GET", s.HostURL()+"/api/Hi", nil)
		req.Host = "secure.azurewebsites.net"
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		return resp.StatusCode
	}
	cred := credential(t, s, "s3cret")
	appTok, err := cred.GetToken(ctx(t), policy.TokenRequestOptions{Scopes: []string{"api://secure/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	armTok, err := cred.GetToken(ctx(t), policy.TokenRequestOptions{Scopes: []string{ARMAudience + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	if st := get(""); st != 401 {
		t.Errorf("no token: %d", st)
	}
	if st := get(armTok.Token); st != 401 {
		t.Errorf("ARM token: %d", st)
	}
	if st := get(appTok.Token); st != 200 {
		t.Errorf("app token: %d", st)
	}
}

func TestMatchRoute(t *testing.T) {
	cases := []struct {
		tmpl, path string
		ok         bool
		params     map[string]string
	}{
		{"pets/{id?}", "pets", true, map[string]string{}},
		{"pets/{id?}", "pets/3", true, map[string]string{"id": "3"}},
		{"pets/{id:int}", "pets", false, nil},
		{"pets/{id:int}", "PETS/3", true, map[string]string{"id": "3"}},
		{"files/{*rest}", "files/a/b", true, map[string]string{"rest": "a/b"}},
		{"a/b", "a/b/c", false, nil},
		{"a/b", "a", false, nil},
	}
	for _, c := range cases {
		p, ok := matchRoute(c.tmpl, c.path)
		if ok != c.ok || (ok && len(p) != len(c.params)) {
			t.Errorf("%s ~ %s: %v %v", c.tmpl, c.path, p, ok)
			continue
		}
		for k, v := range c.params {
			if p[k] != v {
				t.Errorf("%s ~ %s: %s=%q", c.tmpl, c.path, k, p[k])
			}
		}
	}
}
