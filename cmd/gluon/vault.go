package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/spf13/pflag"

	"github.com/gluon-gateway/gluon/api/vaultsource"
	"github.com/gluon-gateway/gluon/controlplane"
)

// vaultOptions say how to reach Vault, where Secrets with spec.vault keep
// their values.
type vaultOptions struct {
	addr         string
	tokenFile    string
	roleIDFile   string
	secretIDFile string
	approleMount string
	caFile       string
	pollInterval time.Duration
}

func addVaultFlags(f *pflag.FlagSet, o *vaultOptions) {
	f.StringVar(&o.addr, "vault-addr", "", "Vault server (http(s)://host:port) holding the values of Secrets with spec.vault")
	f.StringVar(&o.tokenFile, "vault-token-file", "", "file holding a Vault token (default: $VAULT_TOKEN)")
	f.StringVar(&o.roleIDFile, "vault-role-id-file", "", "AppRole login: file holding the role_id (with --vault-secret-id-file)")
	f.StringVar(&o.secretIDFile, "vault-secret-id-file", "", "AppRole login: file holding the secret_id")
	f.StringVar(&o.approleMount, "vault-approle-mount", "approle", "where the AppRole auth method is mounted")
	f.StringVar(&o.caFile, "vault-ca-file", "", "CA bundle that verifies Vault over HTTPS")
	f.DurationVar(&o.pollInterval, "vault-poll-interval", time.Second, "how often each Secret's path is read for a new version")
}

// client logs in to Vault: AppRole when its files are given, else the
// token's.
func (o vaultOptions) client(ctx context.Context) (*vaultapi.Client, error) {
	cfg := vaultapi.DefaultConfig()
	cfg.Address = o.addr
	if o.caFile != "" {
		if err := cfg.ConfigureTLS(&vaultapi.TLSConfig{CACert: o.caFile}); err != nil {
			return nil, fmt.Errorf("vault tls: %w", err)
		}
	}
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client: %w", err)
	}
	switch {
	case o.roleIDFile != "" || o.secretIDFile != "":
		return c, o.approleLogin(ctx, c)
	case o.tokenFile != "":
		token, err := readTrimmed(o.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("vault token: %w", err)
		}
		c.SetToken(token)
	}
	if c.Token() == "" {
		return nil, errors.New("no Vault credentials: give --vault-token-file, $VAULT_TOKEN, or --vault-role-id-file and --vault-secret-id-file")
	}
	return c, nil
}

func (o vaultOptions) approleLogin(ctx context.Context, c *vaultapi.Client) error {
	roleID, err := readTrimmed(o.roleIDFile)
	if err != nil {
		return fmt.Errorf("vault role id: %w", err)
	}
	secretID, err := readTrimmed(o.secretIDFile)
	if err != nil {
		return fmt.Errorf("vault secret id: %w", err)
	}
	resp, err := c.Logical().WriteWithContext(ctx, "auth/"+o.approleMount+"/login", map[string]any{"role_id": roleID, "secret_id": secretID})
	if err != nil {
		return fmt.Errorf("vault approle login: %w", err)
	}
	if resp == nil || resp.Auth == nil {
		return errors.New("vault approle login: no token in the answer")
	}
	c.SetToken(resp.Auth.ClientToken)
	return nil
}

func readTrimmed(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

// startVault reads the Secrets' Vault paths into p until ctx ends; the
// pipeline tells it which paths its config names.
func startVault(ctx context.Context, o vaultOptions, p *controlplane.Pipeline, log *slog.Logger) error {
	c, err := o.client(ctx)
	if err != nil {
		return err
	}
	src := vaultsource.New(c, o.pollInterval, log.With("component", "vault"))
	if o.roleIDFile != "" {
		src.Login = func(ctx context.Context) error { return o.approleLogin(ctx, c) }
	}
	p.OnVaultPaths = src.Watch
	log.Info("reading secrets from vault", "addr", o.addr, "poll", o.pollInterval)
	go func() {
		if err := src.Run(ctx, func(r map[string]vaultsource.Resolved) { p.SetVaultSecrets(ctx, r) }); err != nil {
			log.Error("vault secret source stopped", "err", err)
		}
	}()
	return nil
}
