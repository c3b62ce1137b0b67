package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

const (
	// tokenTimeout bounds getting a request's token: a call to the token
	// endpoint, with the SDK's retries, when the cached token is due for
	// refresh; instant otherwise.
	tokenTimeout = 5 * time.Second
	// refreshWindow is how long before expiry a token is refreshed, so that
	// no request carries a token about to expire in flight; at most a
	// quarter of its lifetime, or a short-lived token would be fetched on
	// every request.
	refreshWindow = time.Minute
)

// tokenSource caches one app registration's token for one scope. azidentity
// (MSAL) caches too, and treats a token within 5 minutes of expiry as
// expired, so a GetToken in this cache's refresh window fetches a new one;
// this cache decides when, and lets one request fetch while the others wait.
type tokenSource struct {
	aad  AAD
	cred azcore.TokenCredential
	// sem is a one-slot lock that a waiting request can give up on when
	// its deadline passes.
	sem chan struct{}
	tok azcore.AccessToken
	// refreshAt is when tok is due for refresh.
	refreshAt time.Time
}

func (f *Filter) tokenSource(upstream string) (*tokenSource, error) {
	a, ok := f.cfg.AAD[upstream]
	if !ok {
		return nil, fmt.Errorf("no AAD app registration for upstream %s", upstream)
	}
	if err := checkAAD(a); err != nil {
		return nil, fmt.Errorf("AAD identity of upstream %s: %w", upstream, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if ts, ok := f.tokens[a]; ok {
		return ts, nil
	}
	cred, err := f.credential(a)
	if err != nil {
		return nil, fmt.Errorf("AAD identity of upstream %s: %w", upstream, redact(err, a.ClientSecret))
	}
	ts := &tokenSource{aad: a, cred: cred, sem: make(chan struct{}, 1)}
	f.tokens[a] = ts
	return ts, nil
}

// checkAAD checks that the kind is known and has what it needs.
func checkAAD(a AAD) error {
	switch a.Kind {
	case "", KindClientSecret:
		if a.TenantID == "" || a.ClientID == "" || a.ClientSecret == "" || a.Scope == "" {
			return errors.New("tenantId, clientId, clientSecret and scope are required")
		}
	case KindWorkloadIdentity:
		if a.TenantID == "" || a.ClientID == "" || a.TokenFilePath == "" || a.Scope == "" {
			return errors.New("workload identity: tenantId, clientId, tokenFilePath and scope are required")
		}
	case KindManagedIdentity, KindDefault:
		if a.Scope == "" {
			return errors.New("scope is required")
		}
	default:
		return fmt.Errorf("unknown kind %q (want %s, %s, %s or %s)", a.Kind,
			KindClientSecret, KindManagedIdentity, KindWorkloadIdentity, KindDefault)
	}
	return nil
}

// credential builds the azidentity credential of a's kind. Instance
// discovery is always skipped: it only validates the authority host.
func (f *Filter) credential(a AAD) (azcore.TokenCredential, error) {
	var opts azcore.ClientOptions
	opts.Transport = f.transport
	if a.AuthorityHost != "" {
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: a.AuthorityHost}
	}
	switch a.Kind {
	case KindManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if a.ClientID != "" {
			o.ID = azidentity.ClientID(a.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(o)
	case KindWorkloadIdentity:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, TenantID: a.TenantID, ClientID: a.ClientID, TokenFilePath: a.TokenFilePath,
			DisableInstanceDiscovery: true})
	case KindDefault:
		return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: opts, TenantID: a.TenantID, DisableInstanceDiscovery: true})
	default:
		return azidentity.NewClientSecretCredential(a.TenantID, a.ClientID, a.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	}
}

// who names the identity a in errors.
func who(a AAD) string {
	switch a.Kind {
	case KindManagedIdentity:
		if a.ClientID == "" {
			return "the system-assigned managed identity"
		}
		return "managed identity " + a.ClientID
	case KindDefault:
		return "the default Azure credential"
	case KindWorkloadIdentity:
		return fmt.Sprintf("workload identity %s in tenant %s", a.ClientID, a.TenantID)
	default:
		return fmt.Sprintf("client %s in tenant %s", a.ClientID, a.TenantID)
	}
}

// token returns a bearer token valid for at least the refresh window.
func (ts *tokenSource) token(ctx context.Context) (string, error) {
	select {
	case ts.sem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for an AAD token: %w", ctx.Err())
	}
	defer func() { <-ts.sem }()
	now := time.Now()
	if ts.tok.Token != "" && now.Before(ts.refreshAt) {
		return ts.tok.Token, nil
	}
	tok, err := ts.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{ts.aad.Scope}})
	if err != nil {
		return "", fmt.Errorf("AAD token for %s: %w", who(ts.aad), redact(aadError(err), ts.aad.ClientSecret))
	}
	window := min(refreshWindow, tok.ExpiresOn.Sub(now)/4)
	ts.tok, ts.refreshAt = tok, tok.ExpiresOn.Add(-window)
	return tok.Token, nil
}

// aadError shortens the SDK's multi-line error to what Azure AD said
// (AADSTS code and description), which is what an operator acts on.
func aadError(err error) error {
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil {
		return err
	}
	// Payload keeps the body readable for the SDK's own Error().
	body, rerr := runtime.Payload(afe.RawResponse)
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if rerr != nil || json.Unmarshal(body, &e) != nil || e.Error == "" {
		return err
	}
	desc, _, _ := strings.Cut(e.Description, "\r\n") // AAD appends trace and correlation ids
	return fmt.Errorf("%d %s: %s", afe.RawResponse.StatusCode, e.Error, strings.TrimSpace(desc))
}

// redact guarantees that no error the filter shows contains the secret,
// whatever the SDK put in it.
func redact(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "[redacted]"))
}
