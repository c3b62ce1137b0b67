package kubesource

import (
	"reflect"
	"testing"

	"github.com/gluon-gateway/gluon/api"
)

// TestSecretsRoundTripThroughKubernetesSecrets: every type, with its
// labels (apiKeyAuth selects by them), survives the trip.
func TestSecretsRoundTripThroughKubernetesSecrets(t *testing.T) {
	for _, spec := range []api.SecretSpec{
		{AWS: &api.AWSSecret{AccessKey: "AKID", SecretKey: "s3cr3t", SessionToken: "tok"}},
		{Azure: &api.AzureSecret{APIKeys: map[string]string{"hello": "k1", "bye": "k2"}, HostKey: "h", MasterKey: "m"}},
		{Header: &api.HeaderSecret{Headers: map[string]string{"x-api-key": "k", "authorization": "Basic dTpw"}}},
		{APIKey: &api.APIKeySecret{APIKey: "k-123", Metadata: map[string]string{"client-id": "acme"}}},
		{Htpasswd: &api.HtpasswdSecret{Users: "alice:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n"}},
	} {
		in := &api.Secret{Spec: spec}
		in.Name, in.Namespace, in.Labels = "creds", "shop", map[string]string{"team": "shop"}
		k, err := KubeSecret(in)
		if err != nil {
			t.Fatal(err)
		}
		out, ok, err := SecretOf(k)
		if !ok || err != nil || !reflect.DeepEqual(out.Spec, in.Spec) || out.Name != "creds" || out.Namespace != "shop" ||
			out.Labels["team"] != "shop" {
			t.Fatalf("round trip of %+v: %+v ok=%v err=%v", spec, out, ok, err)
		}
	}
}
