package api

import "net/url"

// AzureUpstream is an Azure Function App whose functions Gluon discovers
// through ARM and routes to by name.
type AzureUpstream struct {
	FunctionAppName string `json:"functionAppName"`
	SubscriptionID  string `json:"subscriptionId,omitempty"`
	ResourceGroup   string `json:"resourceGroup,omitempty"`
	// SecretRef names a Secret with the app's keys; without one, the keys
	// discovery reads through ARM are used.
	SecretRef *ResourceRef `json:"secretRef,omitempty"`
	// ClientSecret is the service principal that lists functions (and
	// reads keys) through ARM, and, with AppAuthentication, gets the
	// Entra ID tokens the app requires.
	ClientSecret *AzureClientSecret `json:"clientSecret,omitempty"`
	// ManagedIdentity, WorkloadIdentity and DefaultCredential are the
	// other azidentity credentials; at most one credential is set.
	ManagedIdentity   *AzureManagedIdentity  `json:"managedIdentity,omitempty"`
	WorkloadIdentity  *AzureWorkloadIdentity `json:"workloadIdentity,omitempty"`
	DefaultCredential *Empty                 `json:"defaultCredential,omitempty"`
	// AppAuthentication sends an Entra ID bearer token to the app, for
	// apps behind App Service authentication.
	AppAuthentication bool `json:"appAuthentication,omitempty"`
	// Endpoint overrides, for tests and sovereign clouds.
	ARMEndpoint   string `json:"armEndpoint,omitempty"`
	AuthorityHost string `json:"authorityHost,omitempty"`
	// AppHost replaces https://<app>.azurewebsites.net.
	AppHost string `json:"appHost,omitempty"`
}

// AzureClientSecret is a service principal; its secret is in a Secret.
type AzureClientSecret struct {
	TenantID  string      `json:"tenantId"`
	ClientID  string      `json:"clientId"`
	SecretRef ResourceRef `json:"secretRef"`
}

// AzureManagedIdentity is the host's managed identity: system-assigned, or
// the user-assigned one with ClientID.
type AzureManagedIdentity struct {
	ClientID string `json:"clientId,omitempty"`
}

// AzureWorkloadIdentity exchanges a federated token file (Kubernetes
// workload identity) for Entra ID tokens.
type AzureWorkloadIdentity struct {
	TenantID      string `json:"tenantId"`
	ClientID      string `json:"clientId"`
	TokenFilePath string `json:"tokenFilePath"`
}

// HasCredential reports whether an Entra ID credential is configured.
func (a *AzureUpstream) HasCredential() bool {
	return a.ClientSecret != nil || a.ManagedIdentity != nil || a.WorkloadIdentity != nil || a.DefaultCredential != nil
}

// AzureSecret holds an app's keys and a service principal's secret.
type AzureSecret struct {
	// APIKeys are function keys by function name.
	APIKeys      map[string]string `json:"apiKeys,omitempty"`
	HostKey      string            `json:"hostKey,omitempty"`
	MasterKey    string            `json:"masterKey,omitempty"`
	ClientSecret string            `json:"clientSecret,omitempty"`
}

// AzureDestinationSpec calls a discovered function of the app.
type AzureDestinationSpec struct {
	FunctionName string `json:"functionName"`
}

func validateAzure(f *fieldErrors, path string, a *AzureUpstream) {
	if a.FunctionAppName == "" {
		f.add(path+".functionAppName", "is required")
	}
	creds := countSet(a.ClientSecret != nil, a.ManagedIdentity != nil, a.WorkloadIdentity != nil, a.DefaultCredential != nil)
	if creds > 1 {
		f.add(path, "only one of clientSecret, managedIdentity, workloadIdentity, defaultCredential may be set")
	}
	if c := a.ClientSecret; c != nil && (c.TenantID == "" || c.ClientID == "" || c.SecretRef.Name == "") {
		f.add(path+".clientSecret", "tenantId, clientId and secretRef.name are required")
	}
	if w := a.WorkloadIdentity; w != nil && (w.TenantID == "" || w.ClientID == "" || w.TokenFilePath == "") {
		f.add(path+".workloadIdentity", "tenantId, clientId and tokenFilePath are required")
	}
	if creds > 0 && (a.SubscriptionID == "" || a.ResourceGroup == "") {
		f.add(path, "subscriptionId and resourceGroup are required to discover functions through ARM")
	}
	if a.AppAuthentication && creds == 0 {
		f.add(path+".appAuthentication", "needs a credential (clientSecret, managedIdentity, workloadIdentity or defaultCredential) to get Entra ID tokens")
	}
	for name, u := range map[string]string{"armEndpoint": a.ARMEndpoint, "authorityHost": a.AuthorityHost, "appHost": a.AppHost} {
		if u == "" {
			continue
		}
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			f.add(path+"."+name, "%q is not an http(s) URL", u)
		}
	}
}
