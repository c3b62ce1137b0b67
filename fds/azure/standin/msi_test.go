package standin

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMSIEndpoint(t *testing.T) {
	s := newStandin(t, Options{TokenLifetime: time.Minute})
	if err := s.AddApp(App{Name: "secure", RequireAAD: true, Functions: []Function{
		{Name: "Hi", AuthLevel: AuthAnonymous, Handler: ok}}}); err != nil {
		t.Fatal(err)
	}
	s.AddManagedIdentity("")
	s.AddManagedIdentity("uami")
	msi := func(header string, q url.Values) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.MSIEndpoint()+"?"+q.Encode(), nil)
		if header != "" {
			req.Header.Set("X-IDENTITY-HEADER", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body) //nolint:errcheck
		return resp.StatusCode, body
	}
	q := func(resource, clientID string) url.Values {
		v := url.Values{"api-version": {"2019-08-01"}, "resource": {resource}}
		if clientID != "" {
			v.Set("client_id", clientID)
		}
		return v
	}
	if st, _ := msi("", q("api://secure", "")); st != 400 {
		t.Errorf("no header: %d", st)
	}
	if st, _ := msi("wrong", q("api://secure", "")); st != 401 {
		t.Errorf("wrong header: %d", st)
	}
	if st, _ := msi(s.MSIHeader(), q("api://secure", "nosuch")); st != 400 {
		t.Errorf("unknown identity: %d", st)
	}
	bad := q("api://secure", "")
	bad.Set("api-version", "2017-09-01")
	if st, _ := msi(s.MSIHeader(), bad); st != 400 {
		t.Errorf("old api-version: %d", st)
	}
	st, body := msi(s.MSIHeader(), q("api://secure", "uami"))
	exp, _ := strconv.ParseInt(body["expires_on"].(string), 10, 64)
	if st != 200 || body["token_type"] != "Bearer" || body["resource"] != "api://secure" ||
		exp < time.Now().Add(50*time.Second).Unix() || exp > time.Now().Add(61*time.Second).Unix() {
		t.Fatalf("%d %v", st, body)
	}
	get := func(host, path, token string) int {
		req, _ := http.NewRequest("GET", host+path, nil)
		req.Host = "secure.azurewebsites.net"
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	appTok := body["access_token"].(string)
	if st := get(s.HostURL(), "/api/Hi", appTok); st != 200 {
		t.Errorf("app with an MSI token: %d", st)
	}
	_, body = msi(s.MSIHeader(), q(ARMAudience, ""))
	armTok := body["access_token"].(string)
	if st := get(s.HostURL(), "/api/Hi", armTok); st != 401 {
		t.Errorf("app with an ARM token: %d", st)
	}
	armPath := "/subscriptions/" + s.Subscription() + "/resourceGroups/" + s.ResourceGroup() +
		"/providers/Microsoft.Web/sites/petstore/functions?api-version=2024-04-01"
	if st := get(s.URL(), armPath, armTok); st != 200 {
		t.Errorf("ARM with an MSI token: %d", st)
	}
	if st := get(s.URL(), armPath, appTok); st != 401 {
		t.Errorf("ARM with an app token: %d", st)
	}
	if strings.Contains(s.MSIEndpoint(), "https") {
		t.Error("the MSI endpoint is plain HTTP on App Service")
	}
}
