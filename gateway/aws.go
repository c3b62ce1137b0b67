package gateway

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/functions"
	"github.com/gluon-gateway/gluon/xds/ir"
)

// awsEndpoint is where an AWS upstream's Lambda API is: the region's
// public endpoint over TLS, or the override.
func awsEndpoint(a *api.AWSUpstream) (host string, port uint32, useTLS bool) {
	return endpoint("lambda."+a.Region+".amazonaws.com", a.Endpoint)
}

// endpoint is a cloud service's address: its public host over TLS, or an
// override URL (validated with the upstream) with the port its scheme implies.
func endpoint(publicHost, override string) (host string, port uint32, useTLS bool) {
	if override == "" {
		return publicHost, 443, true
	}
	u, _ := url.Parse(override)
	useTLS = u.Scheme == "https"
	portText := u.Port()
	if portText == "" {
		portText = map[bool]string{true: "443", false: "80"}[useTLS]
	}
	p, _ := strconv.Atoi(portText)
	return u.Hostname(), uint32(p), useTLS
}

// awsHostHeader is the Host Lambda expects (and the signature covers).
func awsHostHeader(a *api.AWSUpstream) string {
	host, port, useTLS := awsEndpoint(a)
	if (useTLS && port == 443) || (!useTLS && port == 80) {
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}

// remoteCluster points a cluster at one cloud endpoint: resolved by DNS
// unless it is an IP, with TLS and SNI when the endpoint uses TLS.
func remoteCluster(c *ir.Cluster, host string, port uint32, useTLS bool) *ir.Cluster {
	c.Endpoints = []ir.Endpoint{{Host: host, Port: port, Weight: 1}}
	if net.ParseIP(host) == nil {
		c.Discovery = ir.DiscoveryStrictDNS
	}
	if useTLS {
		c.TLS = &ir.TLS{SNI: host}
	}
	return c
}

// awsCredentials resolves every AWS upstream's secret; an upstream whose
// secret is missing is warned about, and its routes answer 5xx.
func (t *translation) awsCredentials(secrets map[api.ResourceRef]*api.Secret) map[string]ir.AWSCredentials {
	out := map[string]ir.AWSCredentials{}
	for _, u := range t.res.Upstreams {
		a := u.Spec.AWS
		if a == nil || a.SecretRef == nil {
			continue
		}
		ref := a.SecretRef.Ref(u.Namespace)
		s, ok := secrets[ref]
		if !ok || s.Spec.AWS == nil {
			t.reports.Warn(api.KeyOf(u), api.Problem{Code: api.SecretNotFound, Path: "spec.aws.secretRef", Message: fmt.Sprintf("secret %s not found or not an aws secret", ref)})
			continue
		}
		out[u.Namespace+"/"+u.Name] = ir.AWSCredentials{AccessKeyID: s.Spec.AWS.AccessKey, SecretAccessKey: s.Spec.AWS.SecretKey, SessionToken: s.Spec.AWS.SessionToken}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// lambdaInvoke resolves a route's aws destination to a discovered function.
func (t *translation) lambdaInvoke(ref api.ResourceRef, d *api.AWSDestinationSpec, creds map[string]ir.AWSCredentials) (*ir.LambdaInvoke, error) {
	u := t.upstreams[ref]
	if u.Spec.AWS == nil {
		return nil, fmt.Errorf("upstream %s is not an aws upstream", ref)
	}
	key := ref.String()
	if u.Spec.AWS.SecretRef != nil {
		if _, ok := creds[key]; !ok {
			return nil, api.Errorf(api.SecretNotFound, "", "upstream %s: its secret %s is missing", ref, u.Spec.AWS.SecretRef.Ref(ref.Namespace))
		}
	}
	fn, err := t.findLambda(ref, d.LogicalName)
	if err != nil {
		return nil, err
	}
	inv := &ir.LambdaInvoke{
		Credentials:          key,
		Region:               u.Spec.AWS.Region,
		Host:                 awsHostHeader(u.Spec.AWS),
		FunctionName:         fn.FunctionName,
		Qualifier:            fn.Qualifier,
		AccountID:            arnAccount(fn.ARN),
		InvocationStyle:      strings.ToLower(d.InvocationStyle),
		UnwrapAsAPIGateway:   d.UnwrapAsAPIGateway,
		UnwrapAsALB:          d.UnwrapAsALB,
		PassFunctionErrors:   d.PassFunctionErrors,
		WrapAsALB:            d.WrapAsALB,
		ALBMultiValueHeaders: d.ALBMultiValueHeaders,
		RoleARN:              u.Spec.AWS.RoleArn,
		STSEndpoint:          u.Spec.AWS.STSEndpoint,
	}
	if inv.InvocationStyle == "" {
		inv.InvocationStyle = "sync"
	}
	if d.WrapAsAPIGateway {
		inv.WrapAsAPIGateway = "v1"
		if d.APIGatewayVersion != "" {
			inv.WrapAsAPIGateway = d.APIGatewayVersion
		}
	}
	return inv, nil
}

func (t *translation) findLambda(ref api.ResourceRef, logicalName string) (*functions.LambdaFunction, error) {
	fn, err := t.discovered(ref, logicalName, "Lambda ", func(f *functions.Function) bool { return f.Lambda != nil })
	if err != nil {
		return nil, err
	}
	return fn.Lambda, nil
}

// arnAccount is the account of an ARN (arn:partition:service:region:
// account:resource), "" when there is none.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}
