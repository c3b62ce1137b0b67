// Package azure discovers the HTTP-triggered functions of an Azure Function
// App, and reads its keys, through Azure Resource Manager with the real
// azidentity and armappservice clients, as a service principal.
package azure

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appservice/armappservice/v6"

	"github.com/gluon-gateway/gluon/functions"
)

// armAudience is ARM's token audience in the public cloud.
const armAudience = "https://management.core.windows.net/"

// Config says which app to read and as whom.
type Config struct {
	SubscriptionID, ResourceGroup, AppName string
	// CredentialKind says how discovery authenticates: "clientSecret" (the
	// default when empty: TenantID, ClientID, ClientSecret), "managedIdentity"
	// (the host's identity, found through IDENTITY_ENDPOINT/IDENTITY_HEADER
	// or IMDS; ClientID picks a user-assigned one), "workloadIdentity"
	// (TenantID, ClientID and TokenFilePath, the federated token file) or
	// "default" (azidentity's DefaultAzureCredential, configured by the
	// AZURE_* and managed identity environment variables; TenantID optional).
	CredentialKind string
	// TenantID, ClientID and ClientSecret are the service principal's.
	TenantID, ClientID, ClientSecret string
	// TokenFilePath is the federated token file of a workload identity.
	TokenFilePath string
	// AuthorityHost overrides https://login.microsoftonline.com/ (a
	// sovereign cloud, a stand-in); instance discovery is then skipped,
	// since it only knows Microsoft's hosts.
	AuthorityHost string
	// ARMEndpoint overrides https://management.azure.com; ARMAudience its
	// token audience (default https://management.core.windows.net/).
	ARMEndpoint, ARMAudience string
	// Transport replaces the SDK's HTTP client (tests: the stand-in's).
	Transport policy.Transporter
	// Timeout bounds one Discover call (default 60 s).
	Timeout time.Duration
	// MaxRetries is the SDK's retries per call: 0 keeps its default (3),
	// negative means none. Discovery runs again later anyway.
	MaxRetries int32
	// MaxFunctions bounds what one Discover lists (default 10,000).
	MaxFunctions int
}

// Discoverer reads one Function App.
type Discoverer struct {
	client *armappservice.WebAppsClient
	cfg    Config
}

// Credential kinds of Config.CredentialKind.
const (
	KindClientSecret     = "clientSecret"
	KindManagedIdentity  = "managedIdentity"
	KindWorkloadIdentity = "workloadIdentity"
	KindDefault          = "default"
)

// New builds the credential and the ARM client. With a client secret or a
// workload identity nothing is read from the environment: a Discoverer uses
// exactly the principal given; a managed identity and the default
// credential are found in the environment by design.
func New(cfg Config) (*Discoverer, error) {
	switch "" {
	case cfg.SubscriptionID, cfg.ResourceGroup, cfg.AppName:
		return nil, errors.New("azure discovery: subscription, resource group and app name are required")
	}
	if err := checkCredential(cfg); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxFunctions <= 0 {
		cfg.MaxFunctions = 10_000
	}
	cl := cloud.AzurePublic
	cl.Services = map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: cloud.AzurePublic.Services[cloud.ResourceManager]}
	if cfg.AuthorityHost != "" {
		// azidentity joins the tenant onto the host: it needs the slash.
		cl.ActiveDirectoryAuthorityHost = strings.TrimSuffix(cfg.AuthorityHost, "/") + "/"
	}
	if cfg.ARMEndpoint != "" || cfg.ARMAudience != "" {
		svc := cl.Services[cloud.ResourceManager]
		if cfg.ARMEndpoint != "" {
			svc.Endpoint = cfg.ARMEndpoint
			svc.Audience = armAudience
		}
		if cfg.ARMAudience != "" {
			svc.Audience = cfg.ARMAudience
		}
		cl.Services[cloud.ResourceManager] = svc
	}
	opts := azcore.ClientOptions{Cloud: cl, Transport: cfg.Transport, Retry: policy.RetryOptions{MaxRetries: cfg.MaxRetries}}
	cred, err := newCredential(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("azure discovery: %w", err)
	}
	client, err := armappservice.NewWebAppsClient(cfg.SubscriptionID, cred, &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		return nil, fmt.Errorf("azure discovery: %w", err)
	}
	return &Discoverer{client: client, cfg: cfg}, nil
}

// checkCredential checks that the credential kind is known and has what it needs.
func checkCredential(cfg Config) error {
	switch cfg.CredentialKind {
	case "", KindClientSecret:
		if cfg.TenantID == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
			return errors.New("azure discovery: tenant, client id and client secret are required")
		}
	case KindWorkloadIdentity:
		if cfg.TenantID == "" || cfg.ClientID == "" || cfg.TokenFilePath == "" {
			return errors.New("azure discovery: workload identity: tenant, client id and token file path are required")
		}
	case KindManagedIdentity, KindDefault:
	default:
		return fmt.Errorf("azure discovery: unknown credential kind %q (want %s, %s, %s or %s)", cfg.CredentialKind,
			KindClientSecret, KindManagedIdentity, KindWorkloadIdentity, KindDefault)
	}
	return nil
}

// newCredential builds the azidentity credential of cfg's kind.
func newCredential(cfg Config, opts azcore.ClientOptions) (azcore.TokenCredential, error) {
	// Instance discovery only knows Microsoft's hosts. Workload identity and
	// the default credential skip it always, as the filter does: it only
	// validates the authority, and AKS and tests point at other hosts.
	noDiscovery := cfg.AuthorityHost != ""
	switch cfg.CredentialKind {
	case KindManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if cfg.ClientID != "" {
			o.ID = azidentity.ClientID(cfg.ClientID)
		}
		return azidentity.NewManagedIdentityCredential(o)
	case KindWorkloadIdentity:
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, TenantID: cfg.TenantID, ClientID: cfg.ClientID, TokenFilePath: cfg.TokenFilePath,
			DisableInstanceDiscovery: true})
	case KindDefault:
		return azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: opts, TenantID: cfg.TenantID, DisableInstanceDiscovery: true})
	default:
		return azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: noDiscovery})
	}
}

// Discover lists the app's enabled HTTP-triggered functions, sorted by
// name, then reads its keys. When the principal may list functions but not
// keys (403), the functions come back with nil keys and no error: keys may
// come from a Secret instead. Errors keep the ARM or AAD error code visible
// to ErrorCode and IsTransient, and never carry a key.
func (d *Discoverer) Discover(ctx context.Context) ([]functions.Function, *functions.AzureKeys, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	fns, err := d.listFunctions(ctx)
	if err != nil {
		return nil, nil, err
	}
	keys, err := d.readKeys(ctx, fns)
	if ErrorCode(err) == "AuthorizationFailed" {
		return fns, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return fns, keys, nil
}

// ErrTooManyFunctions means the app lists more functions than MaxFunctions
// (or pages without end): nothing is returned rather than a subset.
var ErrTooManyFunctions = errors.New("too many Azure functions")
