package consul

import (
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gluon-gateway/gluon/api"
)

// UpstreamOptions say which Upstreams discovery makes of Consul's
// services.
type UpstreamOptions struct {
	Namespace string
	// PerTagSet adds, for every distinct set of tags a service's instances
	// carry, an Upstream "consul-<service>-<tags>" of the instances that
	// carry them all (serviceTags).
	PerTagSet bool
}

// Upstreams are the Upstreams discovery makes of Consul's services: one
// per service name, "consul-<service>", taking its passing instances in
// every datacenter watched, and, if asked, one per tag set. Sorted by name;
// where two would take one name, the first stays.
func Upstreams(services []api.ConsulService, o UpstreamOptions) []*api.Upstream {
	seen := map[string]bool{}
	var out []*api.Upstream
	add := func(name string, spec *api.ConsulUpstream) {
		if seen[name] {
			return
		}
		seen[name] = true
		out = append(out, &api.Upstream{
			TypeMeta:   metav1.TypeMeta{APIVersion: api.Group + "/v1", Kind: string(api.KindUpstream)},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: map[string]string{api.DiscoveredLabel: "consul"}},
			Spec:       api.UpstreamSpec{Consul: spec},
		})
	}
	for _, s := range services {
		// Consul lists its own servers as the service "consul": their RPC
		// port, not something to route HTTP to.
		if s.Name == "consul" {
			continue
		}
		add(UpstreamName(s.Name), &api.ConsulUpstream{ServiceName: s.Name})
		if !o.PerTagSet {
			continue
		}
		for _, in := range s.Instances {
			if len(in.Tags) == 0 {
				continue
			}
			tags := slices.Clone(in.Tags)
			slices.Sort(tags)
			tags = slices.Compact(tags)
			add(UpstreamName(s.Name+"-"+strings.Join(tags, "-")), &api.ConsulUpstream{ServiceName: s.Name, ServiceTags: tags})
		}
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
