package azure

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/fds/azure/standin"
	"github.com/gluon-gateway/gluon/functions"
)

func noop(http.ResponseWriter, *http.Request) {}

func setup(t *testing.T) (*standin.Server, Config) {
	t.Helper()
	return setupWith(t, standin.Options{})
}

func setupWith(t *testing.T, o standin.Options) (*standin.Server, Config) {
	t.Helper()
	s, err := standin.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddClient("gluon", "client-secret-value")
	err = s.AddApp(standin.App{Name: "petstore", Functions: []standin.Function{
		{Name: "GetPet", Route: "pets/{id?}", Methods: []string{"get"}, Handler: noop},
		{Name: "AddPet", Route: "/pets/", Methods: []string{"POST"}, Handler: noop},
		{Name: "Health", AuthLevel: "anonymous", Handler: noop},
		{Name: "Purge", AuthLevel: "admin", Route: "admin/purge", Handler: noop},
		{Name: "Nightly", Trigger: "timerTrigger"},
		{Name: "Old", Disabled: true, Handler: noop},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s, Config{
		SubscriptionID: s.Subscription(), ResourceGroup: s.ResourceGroup(), AppName: "petstore",
		TenantID: s.Tenant(), ClientID: "gluon", ClientSecret: "client-secret-value",
		AuthorityHost: s.URL(), ARMEndpoint: s.URL(), Transport: s.Client(),
		Timeout: 20 * time.Second, MaxRetries: -1,
	}
}

func discover(t *testing.T, cfg Config) ([]functions.Function, *functions.AzureKeys, error) {
	t.Helper()
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d.Discover(context.Background())
}

func TestDiscover(t *testing.T) {
	s, cfg := setup(t)
	fns, keys, err := discover(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	az := func(name, route, level string, methods ...string) functions.Function {
		return functions.Function{Name: name, Kind: functions.KindAzure, Azure: &functions.AzureFunction{
			FunctionName: name, Route: route, AuthLevel: level, Methods: methods}}
	}
	want := []functions.Function{
		az("AddPet", "pets", "function", "POST"),
		az("GetPet", "pets/{id?}", "function", "GET"),
		az("Health", "Health", "anonymous"),
		az("Purge", "admin/purge", "admin"),
	}
	if !reflect.DeepEqual(fns, want) {
		t.Errorf("functions:\n got %+v\nwant %+v", fns, want)
	}
	k, _ := s.Keys("petstore")
	if keys == nil || keys.Host != k.Host || keys.Master != k.Master || len(keys.Function) != 4 ||
		keys.Function["GetPet"] != k.Function["GetPet"] || keys.Function["Purge"] != k.Function["Purge"] {
		t.Errorf("keys differ from the stand-in's")
	}
	// A revoked (regenerated) key is seen on the next discovery.
	s.RevokeKey("petstore", "GetPet")
	_, keys, err = discover(t, cfg)
	if k2, _ := s.Keys("petstore"); err != nil || keys.Function["GetPet"] != k2.Function["GetPet"] || keys.Function["GetPet"] == k.Function["GetPet"] {
		t.Errorf("after revocation: %v", err)
	}
}

// noKeyIn fails if any of the app's keys appears in err's message.
func noKeyIn(t *testing.T, s *standin.Server, err error) {
	t.Helper()
	k, _ := s.Keys("petstore")
	all := []string{k.Host, k.Master, "client-secret-value"}
	for _, v := range k.Function {
		all = append(all, v)
	}
	for _, v := range all {
		if strings.Contains(err.Error(), v) {
			t.Errorf("a secret appears in %q", err)
		}
	}
}

func TestKeysForbiddenStillListsFunctions(t *testing.T) {
	s, cfg := setup(t)
	s.ForbidKeys(true)
	fns, keys, err := discover(t, cfg)
	if err != nil || keys != nil || len(fns) != 4 {
		t.Fatalf("got %d functions, keys %v, err %v", len(fns), keys != nil, err)
	}
}

func TestARMForbidden(t *testing.T) {
	s, cfg := setup(t)
	s.ForbidARM(true)
	_, _, err := discover(t, cfg)
	if ErrorCode(err) != "AuthorizationFailed" || IsTransient(err) {
		t.Fatalf("code %q transient %v: %v", ErrorCode(err), IsTransient(err), err)
	}
	noKeyIn(t, s, err)
}

func TestWrongSecret(t *testing.T) {
	s, cfg := setup(t)
	cfg.ClientSecret = "not-the-secret"
	_, _, err := discover(t, cfg)
	if err == nil || ErrorCode(err) != "invalid_client" || IsTransient(err) || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("code %q: %v", ErrorCode(err), err)
	}
	if strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("the secret leaks: %v", err)
	}
	noKeyIn(t, s, err)
}

func TestUnknownTenant(t *testing.T) {
	_, cfg := setup(t)
	cfg.TenantID = "00000000-0000-0000-0000-000000000000"
	_, _, err := discover(t, cfg)
	if err == nil || IsTransient(err) {
		t.Fatalf("code %q: %v", ErrorCode(err), err)
	}
}

func TestUnknownApp(t *testing.T) {
	_, cfg := setup(t)
	cfg.AppName = "nosuch"
	_, _, err := discover(t, cfg)
	if ErrorCode(err) != "ResourceNotFound" || IsTransient(err) {
		t.Fatalf("code %q: %v", ErrorCode(err), err)
	}
}

func TestUnreachableIsTransient(t *testing.T) {
	s, cfg := setup(t)
	s.Close()
	_, _, err := discover(t, cfg)
	if err == nil || !IsTransient(err) {
		t.Fatalf("transient %v: %v", IsTransient(err), err)
	}
}

func TestTooManyFunctions(t *testing.T) {
	_, cfg := setup(t)
	cfg.MaxFunctions = 3
	_, _, err := discover(t, cfg)
	if !errors.Is(err, ErrTooManyFunctions) || IsTransient(err) {
		t.Fatalf("got %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	_, cfg := setup(t)
	cfg.ClientSecret = ""
	if _, err := New(cfg); err == nil {
		t.Error("no secret accepted")
	}
}
