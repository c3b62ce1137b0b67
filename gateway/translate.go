// Package gateway is translation stage 1: it turns Gluon resources into one
// ir.Proxy per proxy name, plus a report per resource. It is a pure
// function of its input: no goroutines, no I/O, sorted output.
package gateway

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/transform"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// Output is what stage 1 produces.
type Output struct {
	// Proxies is sorted by name and always holds api.DefaultProxyName.
	Proxies []*ir.Proxy
	Reports api.Reports
	// GatewayAPI is the status of the Gateway API objects Gluon serves.
	GatewayAPI api.GatewayAPIStatus
	// ListenerOwners names the Gateway each listener comes from, by proxy
	// and listener name: a proxy's complaint about a listener (a port it
	// cannot bind) is reported on that Gateway.
	ListenerOwners map[string]map[string]api.Key
}

// Options are what stage 1 needs besides resources and functions.
type Options struct {
	// RateLimitAddress and RateLimitPort are where the control plane serves
	// the rate-limit service that proxies call for global limits.
	RateLimitAddress string
	RateLimitPort    uint32
	// GatewayAPIBindAddress is where Gateway API listeners listen
	// (default 0.0.0.0).
	GatewayAPIBindAddress string
	// RateLimitTLS, when set, is how proxies reach the rate-limit service
	// over (mutual) TLS.
	RateLimitTLS *ir.TLSFiles
	// JWKSFailures are remote JWKS URLs the control plane could not fetch
	// when they were configured, with why: their virtual services are
	// rejected.
	JWKSFailures map[string]string
}

// Translate builds every proxy from res and the functions discovered on its
// upstreams. A resource that cannot be used is reported and left out;
// everything else is still built.
func Translate(res api.Resources, fns functions.Snapshot, opts Options) Output {
	gatewayAPI := convertGatewayAPI(&res, opts.GatewayAPIBindAddress, opts.JWKSFailures)
	res = gatewayAPI.withGenerated(res)
	t := &translation{
		res:          res,
		secrets:      secretsByRef(res.Secrets),
		tlsSecrets:   map[string]ir.Secret{},
		functions:    fns,
		jwksFailures: opts.JWKSFailures,
		reports:      api.Reports{},
		upstreams:    make(map[api.ResourceRef]knownUpstream, len(res.Upstreams)),
		policy:       invalidRoutePolicy(res.Settings),
		// Only to check templates compile; the filters compile their own.
		engine: transform.NewEngine(transform.Options{}),
	}
	for _, u := range res.Upstreams {
		t.reports.Accept(api.KeyOf(u), "")
		ref := api.ResourceRef{Name: u.Name, Namespace: u.Namespace}
		t.upstreams[ref] = knownUpstream{Upstream: u, cluster: ClusterName(ref)}
		if d, ok := fns[functions.UpstreamRef{Namespace: u.Namespace, Name: u.Name}]; ok {
			t.warnDiscovery(u, d)
		}
	}
	clusters := t.clusters()
	byProxy := map[string][]*api.Gateway{api.DefaultProxyName: nil}
	for _, g := range res.Gateways {
		t.reports.Accept(api.KeyOf(g), "")
		for _, p := range g.Proxies() {
			byProxy[p] = append(byProxy[p], g)
		}
	}
	for _, vs := range res.VirtualServices {
		t.reports.Accept(api.KeyOf(vs), "")
	}
	if res.Settings != nil {
		t.reports.Accept(api.KeyOf(res.Settings), "")
	}
	for _, s := range res.Secrets {
		t.reports.Accept(api.KeyOf(s), "")
	}
	for _, ro := range res.RouteOptions {
		t.reports.Accept(api.KeyOf(ro), "")
	}
	t.awsCreds = t.awsCredentials(t.secrets)
	azureKeys, azureAAD := t.azureAuth(t.secrets)
	t.extAuthzSvc, t.extAuthzErr = t.extAuthz()
	t.vhosts = t.virtualHosts()
	out := Output{Reports: t.reports, ListenerOwners: map[string]map[string]api.Key{}}
	for _, name := range sortedNames(byProxy) {
		api.SortByAge(byProxy[name]) // the oldest gateway keeps a contested port
		listeners, owners := t.listeners(byProxy[name])
		out.ListenerOwners[name] = owners
		extAuthz := t.proxyExtAuthz(listeners)
		out.Proxies = append(out.Proxies, &ir.Proxy{
			Name:             name,
			Listeners:        listeners,
			RateLimitService: rateLimitService(res.Settings, listeners, opts),
			ExtAuthz:         extAuthz,
			Clusters:         routedClusters(listeners, clusters, extAuthz),
			AllowedEnv:       allowedEnv(res.Settings),
			// Every proxy may route to any upstream, so each gets every
			// upstream's credentials; the translator keeps those in use.
			AWSCredentials: t.awsCreds,
			AzureKeys:      azureKeys,
			AzureAAD:       azureAAD,
			Secrets:        t.proxySecrets(listeners),
		})
	}
	out.GatewayAPI = gatewayAPI.status(out.Reports)
	return out
}

type translation struct {
	res       api.Resources
	secrets   map[api.ResourceRef]*api.Secret
	functions functions.Snapshot
	engine    *transform.Engine
	reports   api.Reports
	upstreams map[api.ResourceRef]knownUpstream
	policy    ir.DirectResponse
	awsCreds  map[string]ir.AWSCredentials
	// extAuthzSvc is the external authorization service, or extAuthzErr
	// why there is none for routes that ask it.
	extAuthzSvc *ir.ExtAuthz
	extAuthzErr error
	// jwksFailures are the remote JWKS that could not be fetched.
	jwksFailures map[string]string
	// vhosts holds each virtual service's translated virtual host, built
	// once and shared by every listener that serves it.
	vhosts map[api.ResourceRef]*ir.VirtualHost
	// tlsSecrets are the SDS secrets HTTPS chains name, by name.
	tlsSecrets map[string]ir.Secret
}

// knownUpstream is an upstream with its cluster name, made once: routes
// name the same upstreams thousands of times.
type knownUpstream struct {
	*api.Upstream
	cluster string
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func invalidRoutePolicy(s *api.Settings) ir.DirectResponse {
	d := ir.DirectResponse{Status: 500}
	if s != nil && s.Spec.InvalidConfigPolicy != nil {
		p := s.Spec.InvalidConfigPolicy
		if p.InvalidRouteResponseCode != 0 {
			d.Status = p.InvalidRouteResponseCode
		}
		d.Body = p.InvalidRouteResponseBody
	}
	return d
}

func allowedEnv(s *api.Settings) []string {
	if s == nil || s.Spec.Transformation == nil {
		return nil
	}
	env := append([]string{}, s.Spec.Transformation.AllowedEnv...)
	sort.Strings(env)
	return env
}

// maxSkippedShown bounds the skipped parts an Upstream's status lists.
const maxSkippedShown = 5

// warnDiscovery reports on an upstream how its function discovery went
// wrong: it failed, or it skipped parts of the source.
func (t *translation) warnDiscovery(u *api.Upstream, d functions.Discovered) {
	if d.Error != "" {
		t.reports.Warn(api.KeyOf(u), api.Problem{Code: api.DiscoveryFailed, Message: "function discovery: " + d.Error})
	}
	if n := len(d.Skipped); n > 0 {
		shown := d.Skipped[:min(n, maxSkippedShown)]
		msg := fmt.Sprintf("function discovery skipped %d part(s) of the source, whose functions lack what they held: %s", n, strings.Join(shown, "; "))
		if n > len(shown) {
			msg += fmt.Sprintf("; and %d more", n-len(shown))
		}
		t.reports.Warn(api.KeyOf(u), api.Problem{Code: api.DiscoveryIncomplete, Message: msg})
	}
}
