package dataplane

import "testing"

// TestChainForSNI: an exact server name wins over a wildcard, a longer
// wildcard over a shorter, and the chain without names takes the rest.
func TestChainForSNI(t *testing.T) {
	serving := &tlsServing{chains: []*servedChain{
		{name: "default", tls: &chainTLS{}},
		{name: "wild", tls: &chainTLS{serverNames: []string{"*.example.com"}}},
		{name: "deep", tls: &chainTLS{serverNames: []string{"*.api.example.com"}}},
		{name: "exact", tls: &chainTLS{serverNames: []string{"shop.example.com", "api.example.com"}}},
	}}
	for sni, want := range map[string]string{
		"shop.example.com": "exact", "SHOP.example.com": "exact", "api.example.com": "exact",
		"x.example.com": "wild", "v1.api.example.com": "deep", "example.com": "default", "": "default", "other.test": "default",
	} {
		if got := serving.chainFor(sni); got == nil || got.name != want {
			t.Errorf("SNI %q: chain %v, want %s", sni, got, want)
		}
	}
	none := &tlsServing{chains: []*servedChain{{name: "exact", tls: &chainTLS{serverNames: []string{"a.test"}}}}}
	if c := none.chainFor("b.test"); c != nil {
		t.Errorf("an unknown name without a default chain got chain %s", c.name)
	}
}
