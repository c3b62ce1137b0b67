package standin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appservice/armappservice/v6"
)

func ok(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "hello "+r.PathValue("id")) //nolint:errcheck
}

func newStandin(t *testing.T, o Options) *Server {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddClient("client-1", "s3cret")
	err = s.AddApp(App{Name: "petstore", Functions: []Function{
		{Name: "GetPet", Route: "pets/{id?}", Methods: []string{"GET"}, Handler: ok},
		{Name: "AddPet", Route: "pets", Methods: []string{"POST"}, Handler: ok},
		{Name: "Health", AuthLevel: AuthAnonymous, Handler: ok},
		{Name: "Admin", AuthLevel: AuthAdmin, Handler: ok},
		{Name: "Nightly", Trigger: "timerTrigger"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func credential(t *testing.T, s *Server, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(s.Tenant(), "client-1", secret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: s.ClientOptions(), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func webApps(t *testing.T, s *Server, secret string) *armappservice.WebAppsClient {
	t.Helper()
	opts := s.ClientOptions()
	opts.Retry = policy.RetryOptions{MaxRetries: -1}
	c, err := armappservice.NewWebAppsClient(s.Subscription(), credential(t, s, secret), &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestARMWithRealClients(t *testing.T) {
	s := newStandin(t, Options{})
	c := webApps(t, s, "s3cret")
	var names []string
	pages := 0
	pager := c.NewListFunctionsPager(s.ResourceGroup(), "petstore", nil)
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range page.Value {
			names = append(names, *f.Name)
			if *f.Name == "petstore/GetPet" {
				cfg := f.Properties.Config.(map[string]any)
				trigger := cfg["bindings"].([]any)[0].(map[string]any)
				if trigger["route"] != "pets/{id?}" || trigger["authLevel"] != "function" {
					t.Errorf("trigger = %v", trigger)
				}
			}
		}
	}
	if pages != 3 || len(names) != 5 {
		t.Fatalf("pages %d, names %v", pages, names)
	}
	keys, _ := s.Keys("petstore")
	hk, err := c.ListHostKeys(ctx(t), s.ResourceGroup(), "petstore", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *hk.MasterKey != keys.Master || *hk.FunctionKeys["default"] != keys.Host {
		t.Errorf("host keys differ")
	}
	fk, err := c.ListFunctionKeys(ctx(t), s.ResourceGroup(), "petstore", "GetPet", nil)
	if err != nil {
		t.Fatal(err)
	}
	if *fk.Properties["default"] != keys.Function["GetPet"] {
		t.Errorf("function key differs")
	}
}

func armCode(t *testing.T, err error) (int, string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("not a ResponseError: %v", err)
	}
	return re.StatusCode, re.ErrorCode
}

func TestARMRefusals(t *testing.T) {
	s := newStandin(t, Options{})
	c := webApps(t, s, "s3cret")
	s.ForbidKeys(true)
	if _, err := c.NewListFunctionsPager(s.ResourceGroup(), "petstore", nil).NextPage(ctx(t)); err != nil {
		t.Fatalf("listing with keys forbidden: %v", err)
	}
	_, err := c.ListHostKeys(ctx(t), s.ResourceGroup(), "petstore", nil)
	if st, code := armCode(t, err); st != 403 || code != "AuthorizationFailed" {
		t.Errorf("got %d %s", st, code)
	}
	s.ForbidKeys(false)
	s.ForbidARM(true)
	_, err = c.NewListFunctionsPager(s.ResourceGroup(), "petstore", nil).NextPage(ctx(t))
	if st, code := armCode(t, err); st != 403 || code != "AuthorizationFailed" {
		t.Errorf("got %d %s", st, code)
	}
	s.ForbidARM(false)
	_, err = c.ListHostKeys(ctx(t), s.ResourceGroup(), "nosuchapp", nil)
	if _, code := armCode(t, err); code != "ResourceNotFound" {
		t.Errorf("got %s", code)
	}

	// A token for another audience is not an ARM token.
	tok, err := credential(t, s, "s3cret").GetToken(ctx(t), policy.TokenRequestOptions{Scopes: []string{"api://petstore/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", s.URL()+"/subscriptions/"+s.Subscription()+"/resourceGroups/"+s.ResourceGroup()+
		"/providers/Microsoft.Web/sites/petstore/functions?api-version=2025-05-01", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(body), "InvalidAuthenticationToken") {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
}

func TestWrongSecretIsAADError(t *testing.T) {
	s := newStandin(t, Options{})
	_, err := webApps(t, s, "wrong").ListHostKeys(ctx(t), s.ResourceGroup(), "petstore", nil)
	var af *azidentity.AuthenticationFailedError
	if !errors.As(err, &af) || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the secret leaks: %v", err)
	}
}

func TestExpiredTokenIsRefused(t *testing.T) {
	s := newStandin(t, Options{TokenLifetime: time.Second})
	tok, err := credential(t, s, "s3cret").GetToken(ctx(t), policy.TokenRequestOptions{Scopes: []string{ARMAudience + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	req := func() int {
		r, _ := http.NewRequest("POST", s.URL()+"/subscriptions/"+s.Subscription()+"/resourceGroups/"+s.ResourceGroup()+
			"/providers/Microsoft.Web/sites/petstore/host/default/listkeys?api-version=2025-05-01", nil)
		r.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := s.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := req(); st != 200 {
		t.Fatalf("fresh token: %d", st)
	}
	time.Sleep(1100 * time.Millisecond)
	if st := req(); st != 401 {
		t.Fatalf("expired token: %d", st)
	}
}
