package consul

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gluon-gateway/gluon/api"
)

// Upstreams are the Upstreams discovery makes of Consul's services, in
// namespace: one per service name, "consul-<service>", taking its passing
// instances in every datacenter watched. Sorted by name.
func Upstreams(services []api.ConsulService, namespace string) []*api.Upstream {
	seen := map[string]bool{}
	var out []*api.Upstream
	for _, s := range services {
		// Consul lists its own servers as the service "consul": their RPC
		// port, not something to route HTTP to.
		if seen[s.Name] || s.Name == "consul" {
			continue
		}
		seen[s.Name] = true
		out = append(out, &api.Upstream{
			TypeMeta:   metav1.TypeMeta{APIVersion: api.Group + "/v1", Kind: string(api.KindUpstream)},
			ObjectMeta: metav1.ObjectMeta{Name: UpstreamName(s.Name), Namespace: namespace, Labels: map[string]string{api.DiscoveredLabel: "consul"}},
			Spec:       api.UpstreamSpec{Consul: &api.ConsulUpstream{ServiceName: s.Name}},
		})
	}
	api.SortByKey(out)
	return out
}

// UpstreamName is the Upstream discovered for a service: "consul-" and the
// service's name in DNS-1123 form (lower case; other characters "-").
func UpstreamName(service string) string {
	var b strings.Builder
	b.WriteString(api.ConsulUpstreamPrefix)
	for _, r := range strings.ToLower(service) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			b.WriteRune(r)
			continue
		}
		b.WriteByte('-')
	}
	return strings.TrimRight(b.String(), "-.")
}
