package controlplane

import (
	"strings"
	"testing"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/fds"
	"github.com/gluon-gateway/gluon/fds/lambda"
)

func TestLambdaTargetAssumesTheUpstreamsRole(t *testing.T) {
	s := &api.Secret{Spec: api.SecretSpec{AWS: &api.AWSSecret{AccessKey: "AKIDTARGET", SecretKey: "target-secret"}}}
	s.Name, s.Namespace = "creds", "default"
	aws := func(role, sts string) *api.Upstream {
		u := &api.Upstream{Spec: api.UpstreamSpec{AWS: &api.AWSUpstream{Region: "us-east-1", SecretRef: &api.ResourceRef{Name: "creds"},
			RoleArn: role, STSEndpoint: sts}}}
		u.Name, u.Namespace = "aws", "default"
		return u
	}
	const role = "arn:aws:iam::123456789012:role/lister"
	plain := mustTarget(t, aws("", ""), s)
	assumed := mustTarget(t, aws(role, "http://127.0.0.1:9"), s)
	other := mustTarget(t, aws(role, "http://127.0.0.1:10"), s)
	cfg := assumed.Discoverer.(*lambda.Finder).Config()
	if cfg.RoleARN != role || cfg.STSEndpoint != "http://127.0.0.1:9" || cfg.AccessKeyID != "AKIDTARGET" {
		t.Fatalf("discovery config %+v", cfg)
	}
	// A changed role or STS endpoint restarts the poller.
	if plain.Key == assumed.Key || assumed.Key == other.Key {
		t.Fatalf("keys do not follow the role: %q %q %q", plain.Key, assumed.Key, other.Key)
	}
	if strings.Contains(assumed.Key, "target-secret") || strings.Contains(assumed.Key, "AKIDTARGET") {
		t.Fatalf("the key holds a credential: %q", assumed.Key)
	}
}

func mustTarget(t *testing.T, u *api.Upstream, s *api.Secret) fds.Target {
	t.Helper()
	tg, ok := targetOf(u, &api.Resources{Secrets: []*api.Secret{s}})
	if !ok {
		t.Fatalf("no discovery target for %s", u.Name)
	}
	return tg
}
