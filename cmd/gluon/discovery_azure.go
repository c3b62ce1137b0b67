package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/gluon-gateway/gluon/api"
	fdsazure "github.com/gluon-gateway/gluon/fds/azure"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/gateway"
)

// azureFinder lists a Function App's functions (and reads its keys)
// through ARM.
type azureFinder struct {
	cfg fdsazure.Config
	// err is a configuration problem reported on every poll.
	err error
	// d is made by the first poll and kept, so that its credential's
	// token is reused until it expires, not asked for every poll.
	d *fdsazure.Discoverer
}

var errNoARMCredential = errors.New("no credential: functions of an Azure app are discovered through ARM (set clientSecret, managedIdentity, workloadIdentity or defaultCredential)")

func (f *azureFinder) find(ctx context.Context) (functions.Discovered, error) {
	if f.err != nil {
		return functions.Discovered{}, f.err
	}
	if f.d == nil {
		d, err := fdsazure.New(f.cfg)
		if err != nil {
			return functions.Discovered{}, err
		}
		f.d = d
	}
	fns, keys, err := f.d.Discover(ctx)
	if err != nil {
		return functions.Discovered{}, fmt.Errorf("Azure %s: %w", fdsazure.ErrorCode(err), err)
	}
	return functions.Discovered{Functions: fns, Source: "arm " + f.cfg.AppName, AzureKeys: keys}, nil
}

func (f *azureFinder) notMine(err error) bool   { return errors.Is(err, errNoARMCredential) }
func (f *azureFinder) transient(err error) bool { return f.err == nil && fdsazure.IsTransient(err) }

func azureTarget(u *api.Upstream, a *api.AzureUpstream, secrets []*api.Secret) target {
	cfg := fdsazure.Config{SubscriptionID: a.SubscriptionID, ResourceGroup: a.ResourceGroup, AppName: a.FunctionAppName,
		AuthorityHost: a.AuthorityHost, ARMEndpoint: a.ARMEndpoint}
	f := azureFinder{}
	if a.HasCredential() {
		cred, err := gateway.AzureCredential(u, func(ref api.ResourceRef) *api.Secret { return findSecret(secrets, ref) })
		f.err = err
		cfg.CredentialKind, cfg.TenantID, cfg.ClientID, cfg.ClientSecret, cfg.TokenFilePath =
			cred.Kind, cred.TenantID, cred.ClientID, cred.ClientSecret, cred.TokenFilePath
	} else {
		f.err = errNoARMCredential
	}
	f.cfg = cfg
	sum := sha256.Sum256([]byte(cfg.TenantID + "\x00" + cfg.ClientID + "\x00" + cfg.ClientSecret))
	key := fmt.Sprintf("azure %s %s %s %s %s %s %s %s %v", cfg.SubscriptionID, cfg.ResourceGroup, cfg.AppName, cfg.AuthorityHost, cfg.ARMEndpoint,
		cfg.CredentialKind, cfg.TokenFilePath, hex.EncodeToString(sum[:8]), f.err)
	return target{key: key, finder: &f}
}
