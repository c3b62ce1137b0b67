// Package lambda is the logic of Gluon's AWS Lambda HTTP filter (golang
// plugin "gluon.aws_lambda"): it turns a routed request into a Lambda Invoke
// call signed with SigV4, optionally wrapped as an API Gateway proxy event,
// and turns Lambda's answer back into an HTTP response. Like the other
// Gluon filters it works on plain header maps and buffered bodies, so Envoy
// (through the plugin adapter) and the embedded data plane run the same code.
package lambda

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gluon-gateway/gluon/envoy-filters/wire/lambdawire"
)

// The wire contract, defined in lambdawire.
const PluginName = lambdawire.PluginName

type (
	Credentials    = lambdawire.Credentials
	ListenerConfig = lambdawire.ListenerConfig
	RouteConfig    = lambdawire.RouteConfig
)

// Filter is the listener-level state.
type Filter struct {
	creds map[string]Credentials
	roles roles
}

// NewFilter parses the listener config (JSON; empty means none).
func NewFilter(configJSON []byte) (*Filter, error) {
	var cfg ListenerConfig
	if len(configJSON) > 0 {
		if err := json.Unmarshal(configJSON, &cfg); err != nil {
			return nil, fmt.Errorf("%s: listener config: %w", PluginName, err)
		}
	}
	return &Filter{creds: cfg.Credentials, roles: roles{byKey: map[roleKey]aws.CredentialsProvider{}}}, nil
}

// Route is a route's checked config with its credentials resolved.
type Route struct {
	cfg RouteConfig
	// creds sign the call: the upstream's own, or those of the role it
	// assumes (cached, and shared with the listener's other routes).
	creds aws.CredentialsProvider
	path  string // the Invoke path, with the qualifier
}

// CompileRoute checks a route config and resolves its credentials.
func (f *Filter) CompileRoute(configJSON []byte) (*Route, error) {
	var c RouteConfig
	if err := json.Unmarshal(configJSON, &c); err != nil {
		return nil, fmt.Errorf("%s: route config: %w", PluginName, err)
	}
	switch {
	case c.FunctionName == "" || c.Region == "" || c.Host == "":
		return nil, fmt.Errorf("%s: route config: functionName, region and host are required", PluginName)
	case c.InvocationStyle != "" && c.InvocationStyle != "sync" && c.InvocationStyle != "async":
		return nil, fmt.Errorf("%s: route config: invocationStyle %q is not sync or async", PluginName, c.InvocationStyle)
	case c.WrapAsAPIGateway != "" && c.WrapAsAPIGateway != "v1" && c.WrapAsAPIGateway != "v2":
		return nil, fmt.Errorf("%s: route config: wrapAsApiGateway %q is not v1 or v2", PluginName, c.WrapAsAPIGateway)
	case c.WrapAsAPIGateway != "" && c.WrapAsALB:
		return nil, fmt.Errorf("%s: route config: only one of wrapAsApiGateway, wrapAsAlb may be set", PluginName)
	case c.RoleARN != "" && !strings.HasPrefix(c.RoleARN, "arn:"):
		return nil, fmt.Errorf("%s: route config: roleArn %q is not an ARN", PluginName, c.RoleARN)
	case c.STSEndpoint != "" && !isBaseURL(c.STSEndpoint):
		return nil, fmt.Errorf("%s: route config: stsEndpoint %q is not an http(s) URL", PluginName, c.STSEndpoint)
	}
	creds, ok := f.creds[c.Credentials]
	if !ok {
		creds = Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		return nil, fmt.Errorf("%s: route config: no credentials for upstream %q (no secret, and none in the environment)", PluginName, c.Credentials)
	}
	path := "/2015-03-31/functions/" + pathEscape(c.FunctionName) + "/invocations"
	if c.Qualifier != "" {
		path += "?Qualifier=" + pathEscape(c.Qualifier)
	}
	r := &Route{cfg: c, path: path, creds: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)}
	if c.RoleARN != "" {
		r.creds = f.roles.provider(roleKey{base: creds, roleARN: c.RoleARN, stsEndpoint: c.STSEndpoint, region: c.Region})
	}
	return r, nil
}

func isBaseURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
