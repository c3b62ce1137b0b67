package gateway

import (
	"fmt"
	"strings"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// azureAppHost is where an app's functions are served: its
// azurewebsites.net host over TLS, or the override.
func azureAppHost(a *api.AzureUpstream) (host string, port uint32, useTLS bool) {
	return endpoint(azureAppName(a), a.AppHost)
}

// azureAppName is the app's own host name, which App Service routes on.
func azureAppName(a *api.AzureUpstream) string { return a.FunctionAppName + ".azurewebsites.net" }

// azureAuth resolves every Azure upstream's keys (a Secret's over those
// discovery read) and Entra ID credentials.
func (t *translation) azureAuth(secrets map[api.ResourceRef]*api.Secret) (map[string]ir.AzureAppKeys, map[string]ir.AzureAAD) {
	keys, aad := map[string]ir.AzureAppKeys{}, map[string]ir.AzureAAD{}
	for _, u := range t.res.Upstreams {
		a := u.Spec.Azure
		if a == nil {
			continue
		}
		name := u.Namespace + "/" + u.Name
		k := ir.AzureAppKeys{}
		if d, ok := t.functions[functions.UpstreamRef{Namespace: u.Namespace, Name: u.Name}]; ok && d.AzureKeys != nil {
			k = ir.AzureAppKeys{FunctionKeys: copyMap(d.AzureKeys.Function), HostKey: d.AzureKeys.Host, MasterKey: d.AzureKeys.Master}
		}
		if a.SecretRef != nil {
			ref := a.SecretRef.Ref(u.Namespace)
			if s := secrets[ref]; s != nil && s.Spec.Azure != nil {
				k = overlayKeys(k, s.Spec.Azure)
			} else {
				t.reports.Warn(api.KeyOf(u), api.Problem{Code: api.SecretNotFound, Path: "spec.azure.secretRef", Message: fmt.Sprintf("secret %s not found or not an azure secret", ref)})
			}
		}
		if len(k.FunctionKeys) > 0 || k.HostKey != "" || k.MasterKey != "" {
			keys[name] = k
		}
		if a.AppAuthentication {
			cred, err := AzureCredential(u, func(ref api.ResourceRef) *api.Secret { return secrets[ref] })
			if err != nil {
				t.reports.Warn(api.KeyOf(u), api.ProblemsOf(err, api.SecretNotFound, "spec.azure")...)
				continue
			}
			cred.AuthorityHost, cred.Scope = a.AuthorityHost, "api://"+a.FunctionAppName+"/.default"
			aad[name] = cred
		}
	}
	return nilIfEmpty(keys), nilIfEmpty(aad)
}

func overlayKeys(k ir.AzureAppKeys, s *api.AzureSecret) ir.AzureAppKeys {
	if len(s.APIKeys) > 0 && k.FunctionKeys == nil {
		k.FunctionKeys = map[string]string{}
	}
	for fn, key := range s.APIKeys {
		k.FunctionKeys[fn] = key
	}
	if s.HostKey != "" {
		k.HostKey = s.HostKey
	}
	if s.MasterKey != "" {
		k.MasterKey = s.MasterKey
	}
	return k
}

// azureInvoke resolves a route's azure destination to a discovered function.
func (t *translation) azureInvoke(ref api.ResourceRef, d *api.AzureDestinationSpec) (*ir.AzureInvoke, []string, error) {
	u := t.upstreams[ref]
	if u.Spec.Azure == nil {
		return nil, nil, fmt.Errorf("upstream %s is not an azure upstream", ref)
	}
	fn, err := t.findAzure(ref, d.FunctionName)
	if err != nil {
		return nil, nil, err
	}
	// The app is addressed by its own name whatever the override says:
	// App Service routes on Host (an override only changes where the
	// cluster connects).
	host := azureAppName(u.Spec.Azure)
	route := strings.TrimPrefix(fn.Route, "/")
	var warnings []string
	if strings.Contains(route, "{") {
		warnings = append(warnings, fmt.Sprintf("function %s: route parameters in %q are not filled by Gluon yet; the route is called as written", fn.FunctionName, route))
	}
	return &ir.AzureInvoke{Upstream: ref.String(), FunctionName: fn.FunctionName, Path: "/api/" + route, Host: host,
		AuthLevel: fn.AuthLevel, AAD: u.Spec.Azure.AppAuthentication}, warnings, nil
}

func (t *translation) findAzure(ref api.ResourceRef, name string) (*functions.AzureFunction, error) {
	fn, err := t.discovered(ref, name, "Azure ", func(f *functions.Function) bool { return f.Azure != nil })
	if err != nil {
		return nil, err
	}
	return fn.Azure, nil
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func nilIfEmpty[V any](m map[string]V) map[string]V {
	if len(m) == 0 {
		return nil
	}
	return m
}

// AzureCredential is an Azure upstream's Entra ID credential, its secret
// read through secret: the default credential when it names none. The
// data plane's app authentication and ARM discovery both use it.
func AzureCredential(u *api.Upstream, secret func(api.ResourceRef) *api.Secret) (ir.AzureAAD, error) {
	a := u.Spec.Azure
	switch {
	case a.ClientSecret != nil:
		ref := a.ClientSecret.SecretRef.Ref(u.Namespace)
		s := secret(ref)
		if s == nil || s.Spec.Azure == nil || s.Spec.Azure.ClientSecret == "" {
			return ir.AzureAAD{}, fmt.Errorf("secret %s has no azure clientSecret", ref)
		}
		return ir.AzureAAD{Kind: "clientSecret", TenantID: a.ClientSecret.TenantID, ClientID: a.ClientSecret.ClientID, ClientSecret: s.Spec.Azure.ClientSecret}, nil
	case a.ManagedIdentity != nil:
		return ir.AzureAAD{Kind: "managedIdentity", ClientID: a.ManagedIdentity.ClientID}, nil
	case a.WorkloadIdentity != nil:
		w := a.WorkloadIdentity
		return ir.AzureAAD{Kind: "workloadIdentity", TenantID: w.TenantID, ClientID: w.ClientID, TokenFilePath: w.TokenFilePath}, nil
	}
	return ir.AzureAAD{Kind: "default"}, nil
}
