package controlplane

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/fds"
	fdsazure "github.com/gluon-gateway/gluon/fds/azure"
	fdsgrpc "github.com/gluon-gateway/gluon/fds/grpc"
	"github.com/gluon-gateway/gluon/fds/lambda"
	"github.com/gluon-gateway/gluon/fds/openapi"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/gateway"
)

const defaultPollInterval = 30 * time.Second

// discoveryTargets says what function discovery polls, upstream by
// upstream, and how often, per the Settings' mode and each upstream's
// opt-in/opt-out label.
func discoveryTargets(res api.Resources) (map[functions.UpstreamRef]fds.Target, time.Duration) {
	mode, interval := discoverySettings(res.Settings)
	out := map[functions.UpstreamRef]fds.Target{}
	for _, u := range res.Upstreams {
		if !discovers(mode, u) {
			continue
		}
		if t, ok := targetOf(u, &res); ok {
			out[functions.UpstreamRef{Namespace: u.Namespace, Name: u.Name}] = t
		}
	}
	return out, interval
}

func discoverySettings(s *api.Settings) (string, time.Duration) {
	mode, interval := api.FDSBlacklist, defaultPollInterval
	if s != nil && s.Spec.Discovery != nil {
		if s.Spec.Discovery.FdsMode != "" {
			mode = s.Spec.Discovery.FdsMode
		}
		if s.Spec.Discovery.PollInterval != nil {
			interval = s.Spec.Discovery.PollInterval.Duration
		}
	}
	return mode, interval
}

// discovers applies the mode and the upstream's opt-in/opt-out label.
func discovers(mode string, u *api.Upstream) bool {
	switch u.Labels[api.FunctionDiscoveryLabel] {
	case "disabled":
		return false
	case "enabled":
		return mode != api.FDSDisabled
	}
	return mode == api.FDSBlacklist
}

// targetOf says what to discover on an upstream; not ok while there is
// nothing to ask yet (a Service without ready endpoints).
func targetOf(u *api.Upstream, res *api.Resources) (fds.Target, bool) {
	switch {
	case u.Spec.AWS != nil:
		return lambdaTarget(u, u.Spec.AWS, res.Secrets), true
	case u.Spec.Azure != nil:
		return azureTarget(u, u.Spec.Azure, res.Secrets), true
	case u.Spec.Kube != nil:
		k := u.Spec.Kube
		return endpointsTarget(u, k.ServiceSpec, res.EndpointsFor(k.ServiceNamespace, k.ServiceName, k.ServicePort), res)
	case u.Spec.Consul != nil:
		return endpointsTarget(u, u.Spec.Consul.ServiceSpec, res.ConsulEndpoints(u.Spec.Consul), res)
	case u.Spec.Static != nil && isGRPC(u, u.Spec.Static.ServiceSpec):
		s := u.Spec.Static
		return grpcTarget(u, s.ServiceSpec, res, (s.UseTLS != nil && *s.UseTLS) || u.Spec.SSLConfig != nil, s.Hosts[0].Addr, s.Hosts[0].Port), true
	}
	return openAPITarget(u, res), true
}

// isGRPC: an upstream is discovered as gRPC when it gives a descriptor
// set, or speaks HTTP/2 without pointing at an OpenAPI document.
func isGRPC(u *api.Upstream, spec *api.ServiceSpec) bool {
	switch {
	case spec != nil && spec.GRPC != nil:
		return true
	case spec != nil && spec.Rest != nil:
		return false
	}
	return u.Spec.UseHTTP2
}

func grpcTarget(u *api.Upstream, spec *api.ServiceSpec, res *api.Resources, useTLS bool, addr string, port uint32) fds.Target {
	t := fdsgrpc.Target{Addr: net.JoinHostPort(addr, strconv.Itoa(int(port))), TLS: useTLS,
		Limits: fdsgrpc.Limits{MaxBytes: int(openAPILimits(res.Settings).MaxBytes)}}
	if s := u.Spec.Static; s != nil && s.Hosts[0].SniAddr != "" {
		t.ServerName = s.Hosts[0].SniAddr
	}
	if ssl := u.Spec.SSLConfig; ssl != nil {
		t.ServerName = cmp.Or(ssl.Sni, t.ServerName)
		t.RootCA = upstreamRootCA(u, ssl, res.Secrets)
	}
	if spec != nil && spec.GRPC != nil {
		t.Descriptor, t.DescriptorFile = spec.GRPC.ProtoDescriptorBin, spec.GRPC.ProtoDescriptorFile
	}
	sum := sha256.Sum256(t.Descriptor)
	ca := sha256.Sum256(t.RootCA)
	key := fmt.Sprintf("grpc %s tls=%v sni=%s ca=%x file=%s set=%x max=%d", t.Addr, t.TLS, t.ServerName, ca[:8], t.DescriptorFile, sum[:8], t.Limits.MaxBytes)
	return fds.Target{Key: key, Discoverer: fdsgrpc.NewFinder(t)}
}

func openAPITarget(u *api.Upstream, res *api.Resources) fds.Target {
	s := u.Spec.Static
	useTLS := (s.UseTLS != nil && *s.UseTLS) || u.Spec.SSLConfig != nil
	return restTarget(s.ServiceSpec, openAPILimits(res.Settings), useTLS, s.Hosts[0].Addr, s.Hosts[0].Port)
}

// openAPILimits are the Settings' bounds on documents; zero values are
// discovery's defaults.
func openAPILimits(s *api.Settings) openapi.Limits {
	if s == nil || s.Spec.Discovery == nil || s.Spec.Discovery.OpenAPI == nil {
		return openapi.Limits{}
	}
	o := s.Spec.Discovery.OpenAPI
	return openapi.Limits{MaxBytes: o.MaxDocumentBytes, MaxOperations: o.MaxOperations}
}

// endpointsTarget probes the first endpoint of an upstream whose
// endpoints are discovered (a Service's ready ones, a Consul service's
// healthy ones; the control plane may run outside the network where a
// cluster IP means anything): its gRPC methods when it speaks HTTP/2 or
// gives a descriptor set, else its OpenAPI document. Without endpoints
// only a document or descriptor set that spec gives can be read; not ok
// while there is neither.
func endpointsTarget(u *api.Upstream, spec *api.ServiceSpec, eps []api.EndpointAddress, res *api.Resources) (fds.Target, bool) {
	grpc := isGRPC(u, spec)
	given := spec != nil && (grpc && spec.GRPC != nil || !grpc && spec.Rest != nil && spec.Rest.SwaggerInfo != nil)
	if len(eps) == 0 && !given {
		return fds.Target{}, false
	}
	addr, port := "", uint32(0)
	if len(eps) > 0 {
		addr, port = eps[0].IP, eps[0].Port
	}
	if grpc {
		return grpcTarget(u, spec, res, u.Spec.SSLConfig != nil, addr, port), true
	}
	return restTarget(spec, openAPILimits(res.Settings), u.Spec.SSLConfig != nil, addr, port), true
}

func restTarget(spec *api.ServiceSpec, limits openapi.Limits, useTLS bool, addr string, port uint32) fds.Target {
	t := openapi.Target{Limits: limits}
	if spec != nil && spec.Rest != nil && spec.Rest.SwaggerInfo != nil {
		t.DocURL, t.Inline = spec.Rest.SwaggerInfo.URL, spec.Rest.SwaggerInfo.Inline
	} else {
		scheme := "http"
		if useTLS {
			scheme = "https"
		}
		t.BaseURL = scheme + "://" + net.JoinHostPort(addr, strconv.Itoa(int(port)))
	}
	return fds.Target{Key: fmt.Sprintf("openapi %+v", t), Discoverer: openapi.NewFinder(t)}
}

func lambdaTarget(u *api.Upstream, a *api.AWSUpstream, secrets []*api.Secret) fds.Target {
	cfg := lambda.Config{Region: a.Region, Endpoint: a.Endpoint, RoleARN: a.RoleArn, STSEndpoint: a.STSEndpoint}
	var cfgErr error
	switch {
	case a.SecretRef != nil:
		ref := a.SecretRef.Ref(u.Namespace)
		s := api.FindSecret(secrets, ref)
		if s == nil || s.Spec.AWS == nil {
			cfgErr = fmt.Errorf("secret %s not found or not an aws secret", ref)
			break
		}
		cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken = s.Spec.AWS.AccessKey, s.Spec.AWS.SecretKey, s.Spec.AWS.SessionToken
	default:
		// The default chain, as far as a control plane has one: its
		// environment.
		cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")
	}
	// The key must change with the credentials without holding them.
	sum := sha256.Sum256([]byte(cfg.AccessKeyID + "\x00" + cfg.SecretAccessKey + "\x00" + cfg.SessionToken))
	key := fmt.Sprintf("aws %s %s %s %s %s %v", cfg.Region, cfg.Endpoint, cfg.RoleARN, cfg.STSEndpoint, hex.EncodeToString(sum[:8]), cfgErr)
	return fds.Target{Key: key, Discoverer: lambda.NewFinder(cfg, cfgErr)}
}

var errNoARMCredential = errors.New("no credential: functions of an Azure app are discovered through ARM (set clientSecret, managedIdentity, workloadIdentity or defaultCredential)")

func azureTarget(u *api.Upstream, a *api.AzureUpstream, secrets []*api.Secret) fds.Target {
	cfg := fdsazure.Config{SubscriptionID: a.SubscriptionID, ResourceGroup: a.ResourceGroup, AppName: a.FunctionAppName,
		AuthorityHost: a.AuthorityHost, ARMEndpoint: a.ARMEndpoint}
	var cfgErr error
	if a.HasCredential() {
		cred, err := gateway.AzureCredential(u, func(ref api.ResourceRef) *api.Secret { return api.FindSecret(secrets, ref) })
		cfgErr = err
		cfg.CredentialKind, cfg.TenantID, cfg.ClientID, cfg.ClientSecret, cfg.TokenFilePath =
			cred.Kind, cred.TenantID, cred.ClientID, cred.ClientSecret, cred.TokenFilePath
	} else {
		cfgErr = fds.NotMine(errNoARMCredential)
	}
	sum := sha256.Sum256([]byte(cfg.TenantID + "\x00" + cfg.ClientID + "\x00" + cfg.ClientSecret))
	key := fmt.Sprintf("azure %s %s %s %s %s %s %s %s %v", cfg.SubscriptionID, cfg.ResourceGroup, cfg.AppName, cfg.AuthorityHost, cfg.ARMEndpoint,
		cfg.CredentialKind, cfg.TokenFilePath, hex.EncodeToString(sum[:8]), cfgErr)
	return fds.Target{Key: key, Discoverer: fdsazure.NewFinder(cfg, cfgErr)}
}

// upstreamRootCA is the CA of the tls Secret an upstream's sslConfig
// names, if any: what verifies the upstream.
func upstreamRootCA(u *api.Upstream, ssl *api.UpstreamSSLConfig, secrets []*api.Secret) []byte {
	if ssl.SecretRef == nil {
		return nil
	}
	if s := api.FindSecret(secrets, ssl.SecretRef.Ref(u.Namespace)); s != nil && s.Spec.TLS != nil {
		return []byte(s.Spec.TLS.RootCA)
	}
	return nil
}
