package api

import "sort"

// Resources is one consistent view of every resource a config source holds.
//
// +kubebuilder:object:generate=false
type Resources struct {
	Upstreams       []*Upstream
	VirtualServices []*VirtualService
	Gateways        []*Gateway
	Secrets         []*Secret
	RouteOptions    []*RouteOption
	Settings        *Settings
	// ServiceEndpoints feed kube upstreams; only the Kubernetes source has them.
	ServiceEndpoints []ServiceEndpoints
	// GatewayAPI is what the Kubernetes source read of the Gateway API.
	GatewayAPI GatewayAPI
	// ConsulServices feed consul upstreams: what upstream discovery found
	// in Consul's catalog, sorted by name and datacenter.
	ConsulServices []ConsulService
}

// Snapshot is one consistent read of a config source: its resources, and a
// report for each document or object it read.
//
// +kubebuilder:object:generate=false
type Snapshot struct {
	Resources Resources
	Reports   Reports
}

// Add files an object under its kind.
func (r *Resources) Add(o Object) {
	switch v := o.(type) {
	case *Upstream:
		r.Upstreams = append(r.Upstreams, v)
	case *VirtualService:
		r.VirtualServices = append(r.VirtualServices, v)
	case *Gateway:
		r.Gateways = append(r.Gateways, v)
	case *Settings:
		r.Settings = v
	case *Secret:
		r.Secrets = append(r.Secrets, v)
	case *RouteOption:
		r.RouteOptions = append(r.RouteOptions, v)
	}
}

// Sort orders every list by namespace and name so that translation output
// does not depend on the order a source read things in.
func (r *Resources) Sort() {
	SortByKey(r.Upstreams)
	SortByKey(r.VirtualServices)
	SortByKey(r.Gateways)
	SortByKey(r.Secrets)
	SortByKey(r.RouteOptions)
	sortServiceEndpoints(r.ServiceEndpoints)
}

// SortByKey orders objects by namespace and name, keeping the order of
// objects with the same key.
func SortByKey[T Object](objs []T) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

// SortByAge orders objects oldest first (by creation time, then namespace
// and name): who wins a conflict, as in Kubernetes and the Gateway API.
func SortByAge[T Object](objs []T) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i].GetCreationTimestamp(), objs[j].GetCreationTimestamp()
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		if objs[i].GetNamespace() != objs[j].GetNamespace() {
			return objs[i].GetNamespace() < objs[j].GetNamespace()
		}
		return objs[i].GetName() < objs[j].GetName()
	})
}

// State is a resource's verdict, Gloo's names.
type State string

// The states a report can have.
const (
	Accepted State = "Accepted"
	Rejected State = "Rejected"
	Warning  State = "Warning"
)

// Report is what Gluon says about one resource: its state, why, and where it
// came from (a file and document, for the file source).
type Report struct {
	Key      Key       `json:"resource"`
	Origin   string    `json:"origin,omitempty"`
	State    State     `json:"state"`
	Problems []Problem `json:"problems,omitempty"`
}

// Reasons are the problems as people read them.
func (r Report) Reasons() []string {
	out := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		out[i] = p.String()
	}
	return out
}
