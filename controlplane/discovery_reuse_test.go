package controlplane

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/fds"
	fdsazure "github.com/gluon-gateway/gluon/fds/azure"
	azurestandin "github.com/gluon-gateway/gluon/fds/azure/standin"
	lambdastandin "github.com/gluon-gateway/gluon/fds/lambda/standin"
)

// pollThrice runs a target's discoverer as its poller would, three times.
func pollThrice(t *testing.T, d fds.Discoverer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 3 {
		if _, err := d.Discover(ctx); err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
	}
}

func TestLambdaPollsReuseTheAssumedRole(t *testing.T) {
	const role = "arn:aws:iam::123456789012:role/lister"
	st := lambdastandin.New(lambdastandin.Options{})
	st.AddCredentials("AKIDPOLL", "poll-secret", "")
	st.AllowAssumeRole("AKIDPOLL", role)
	if err := st.AddFunction(lambdastandin.Function{Name: "hello", Handler: lambdastandin.Echo}); err != nil {
		t.Fatal(err)
	}
	ep, err := st.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ep.Close() })
	s := &api.Secret{Spec: api.SecretSpec{AWS: &api.AWSSecret{AccessKey: "AKIDPOLL", SecretKey: "poll-secret"}}}
	s.Name, s.Namespace = "creds", "default"
	u := &api.Upstream{Spec: api.UpstreamSpec{AWS: &api.AWSUpstream{Region: "us-east-1", Endpoint: ep.URL,
		SecretRef: &api.ResourceRef{Name: "creds"}, RoleArn: role, STSEndpoint: ep.URL}}}
	u.Name, u.Namespace = "aws", "default"

	pollThrice(t, mustTarget(t, u, s).Discoverer)
	if n := len(st.AssumedRoles()); n != 1 {
		t.Fatalf("the role was assumed %d times over three polls, want once", n)
	}
}

func TestAzurePollsReuseTheToken(t *testing.T) {
	st, err := azurestandin.New(azurestandin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	st.AddClient("gluon", "poll-secret")
	if err := st.AddApp(azurestandin.App{Name: "shop", Functions: []azurestandin.Function{{Name: "hello", Handler: func(http.ResponseWriter, *http.Request) {}}}}); err != nil {
		t.Fatal(err)
	}
	s := &api.Secret{Spec: api.SecretSpec{Azure: &api.AzureSecret{ClientSecret: "poll-secret"}}}
	s.Name, s.Namespace = "sp", "default"
	u := &api.Upstream{Spec: api.UpstreamSpec{Azure: &api.AzureUpstream{FunctionAppName: "shop",
		SubscriptionID: st.Subscription(), ResourceGroup: st.ResourceGroup(), AuthorityHost: st.URL() + "/", ARMEndpoint: st.URL(),
		ClientSecret: &api.AzureClientSecret{TenantID: st.Tenant(), ClientID: "gluon", SecretRef: api.ResourceRef{Name: "sp"}}}}}
	u.Name, u.Namespace = "shop", "default"
	f := mustTarget(t, u, s).Discoverer.(*fdsazure.Finder)
	f.Config().Transport = st.Client()

	pollThrice(t, f)
	if n := st.TokensIssued(azurestandin.ARMAudience); n != 1 {
		t.Fatalf("%d ARM tokens issued over three polls, want one", n)
	}
}
