package azure

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/gluon-gateway/gluon/fds/azure/standin"
)

func armResponse(status int, code string) error {
	req, _ := http.NewRequest("GET", "https://management.azure.com/x", nil)
	return runtime.NewResponseError(&http.Response{StatusCode: status, Status: http.StatusText(status), Request: req,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   io.NopCloser(strings.NewReader(`{"error":{"code":"` + code + `","message":"m"}}`))})
}

func TestIsTransient(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("listing: %w", armResponse(429, "TooManyRequests")), true},
		{armResponse(503, "ServiceUnavailable"), true},
		{armResponse(401, "InvalidAuthenticationToken"), false},
		{armResponse(404, "ResourceNotFound"), false},
		{context.DeadlineExceeded, true},
		{nil, false},
	}
	for _, c := range cases {
		if got := IsTransient(c.err); got != c.want {
			t.Errorf("IsTransient(%v) = %v", c.err, got)
		}
	}
	if code := ErrorCode(fmt.Errorf("x: %w", armResponse(401, "InvalidAuthenticationToken"))); code != "InvalidAuthenticationToken" {
		t.Errorf("ErrorCode = %q", code)
	}
}

// Tokens that expire between discoveries are fetched again.
func TestTokenRefresh(t *testing.T) {
	s, err := standin.New(standin.Options{TokenLifetime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.AddClient("gluon", "pw")
	if err := s.AddApp(standin.App{Name: "app", Functions: []standin.Function{{Name: "f", Handler: noop}}}); err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{SubscriptionID: s.Subscription(), ResourceGroup: s.ResourceGroup(), AppName: "app",
		TenantID: s.Tenant(), ClientID: "gluon", ClientSecret: "pw", AuthorityHost: s.URL(), ARMEndpoint: s.URL(),
		Transport: s.Client(), Timeout: 10 * time.Second, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, _, err := d.Discover(context.Background()); err != nil {
			t.Fatalf("discovery %d: %v", i, err)
		}
		time.Sleep(1100 * time.Millisecond)
	}
}
