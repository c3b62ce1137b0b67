package controlplane

import (
	"context"
	"slices"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/api/vaultsource"
)

// SetVaultSecrets takes what Vault holds at the paths the config's
// Secrets name (spec.vault): those Secrets take the values read there,
// and the config is translated and served again.
func (p *Pipeline) SetVaultSecrets(ctx context.Context, resolved map[string]vaultsource.Resolved) {
	p.change(ctx, func() { p.vault = resolved }) // discovery signs with these keys too
	p.translate(ctx)
}

// VaultPaths are the Vault paths the config's Secrets name, sorted.
func VaultPaths(res api.Resources) []string {
	var out []string
	for _, s := range res.Secrets {
		if v := s.Spec.Vault; v != nil && !slices.Contains(out, v.Path) {
			out = append(out, v.Path)
		}
	}
	slices.Sort(out)
	return out
}

// withVaultSecrets returns res with each Vault-backed Secret replaced by
// one holding what Vault holds, in a new slice; a Secret whose path could
// not be read is left out (what refers to it says it is missing), and
// problems says why.
func withVaultSecrets(res api.Resources, resolved map[string]vaultsource.Resolved) (api.Resources, map[api.Key]string) {
	if len(VaultPaths(res)) == 0 {
		return res, nil
	}
	problems := map[api.Key]string{}
	secrets := make([]*api.Secret, 0, len(res.Secrets))
	for _, s := range res.Secrets {
		v := s.Spec.Vault
		if v == nil {
			secrets = append(secrets, s)
			continue
		}
		r, ok := resolved[v.Path]
		switch {
		case !ok:
			problems[api.KeyOf(s)] = "vault " + v.Path + ": not read yet (is gluon serve given --vault-addr?)"
			continue
		case r.Err != "":
			problems[api.KeyOf(s)] = r.Err
			continue
		}
		out := *s
		out.Spec = r.Spec
		if err := out.Validate(); err != nil {
			problems[api.KeyOf(s)] = "vault " + v.Path + ": " + err.Error()
			continue
		}
		secrets = append(secrets, &out)
	}
	res.Secrets = secrets
	return res, problems
}
