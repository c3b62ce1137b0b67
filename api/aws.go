package api

import (
	"net/url"
	"regexp"
)

// AWSUpstream is a region (or a Lambda-compatible endpoint) whose Lambda
// functions Gluon discovers and routes to.
type AWSUpstream struct {
	Region string `json:"region"`
	// SecretRef names a Secret with an aws access key; without one, the
	// environment's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are used.
	SecretRef    *ResourceRef `json:"secretRef,omitempty"`
	AWSAccountID string       `json:"awsAccountId,omitempty"`
	// Endpoint overrides https://lambda.<region>.amazonaws.com (tests,
	// Lambda-compatible services).
	Endpoint string `json:"endpoint,omitempty"`
	// RoleArn is a role assumed (STS AssumeRole) with the credentials
	// above; discovery and invocations then use the role's temporary
	// credentials, refreshed before they expire.
	RoleArn string `json:"roleArn,omitempty"`
	// STSEndpoint overrides https://sts.<region>.amazonaws.com (tests,
	// sovereign clouds).
	STSEndpoint string `json:"stsEndpoint,omitempty"`
}

// AWSDestinationSpec invokes a Lambda function, Gloo's fields.
type AWSDestinationSpec struct {
	// LogicalName is the discovered function: "name", "name:version" or
	// "name:alias".
	LogicalName string `json:"logicalName"`
	// InvocationStyle is SYNC (default) or ASYNC.
	InvocationStyle string `json:"invocationStyle,omitempty"`
	// WrapAsApiGateway sends the request as an API Gateway proxy event:
	// true for payload 1.0; APIGatewayVersion "v2" picks payload 2.0.
	WrapAsAPIGateway  bool   `json:"wrapAsApiGateway,omitempty"`
	APIGatewayVersion string `json:"apiGatewayVersion,omitempty"`
	// WrapAsALB sends the request as an ALB target group event;
	// ALBMultiValueHeaders as one of a target group with multi-value
	// headers on (multiValueHeaders, multiValueQueryStringParameters).
	WrapAsALB            bool `json:"wrapAsAlb,omitempty"`
	ALBMultiValueHeaders bool `json:"albMultiValueHeaders,omitempty"`
	// UnwrapAsApiGateway / UnwrapAsAlb read the result as a proxy response.
	UnwrapAsAPIGateway bool `json:"unwrapAsApiGateway,omitempty"`
	UnwrapAsALB        bool `json:"unwrapAsAlb,omitempty"`
	// PassFunctionErrors answers a function's error (type, message, stack
	// trace) to the client; by default it gets a generic 502 with the
	// request id, and the error goes to the proxy's log.
	PassFunctionErrors bool `json:"passFunctionErrors,omitempty"`
}

var (
	awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	// awsRoleARN is an IAM role in any partition (aws, aws-cn,
	// aws-us-gov...), with an optional path: IAM's own character set.
	awsRoleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
)

func validateAWS(f *fieldErrors, path string, a *AWSUpstream) {
	if !awsRegion.MatchString(a.Region) {
		f.add(path+".region", "%q is not an AWS region", a.Region)
	}
	if a.SecretRef != nil && a.SecretRef.Name == "" {
		f.add(path+".secretRef.name", "is required")
	}
	validateEndpoint(f, path+".endpoint", a.Endpoint)
	if a.RoleArn != "" && !awsRoleARN.MatchString(a.RoleArn) {
		f.add(path+".roleArn", "%q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", a.RoleArn)
	}
	validateEndpoint(f, path+".stsEndpoint", a.STSEndpoint)
}

// validateEndpoint checks an optional endpoint override: scheme and host,
// as clients append the API's own paths.
func validateEndpoint(f *fieldErrors, path, endpoint string) {
	if endpoint == "" {
		return
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		f.add(path, "%q is not an http(s) URL with no path", endpoint)
	}
}

func validateAWSDestination(f *fieldErrors, path string, d *AWSDestinationSpec) {
	if d.LogicalName == "" {
		f.add(path+".logicalName", "is required")
	}
	switch d.InvocationStyle {
	case "", "SYNC", "ASYNC":
	default:
		f.add(path+".invocationStyle", "%q is not SYNC or ASYNC", d.InvocationStyle)
	}
	switch d.APIGatewayVersion {
	case "", "v1", "v2":
	default:
		f.add(path+".apiGatewayVersion", "%q is not v1 or v2", d.APIGatewayVersion)
	}
	if d.UnwrapAsAPIGateway && d.UnwrapAsALB {
		f.add(path, "only one of unwrapAsApiGateway, unwrapAsAlb may be set")
	}
	if d.WrapAsAPIGateway && d.WrapAsALB {
		f.add(path, "only one of wrapAsApiGateway, wrapAsAlb may be set")
	}
	if d.ALBMultiValueHeaders && !d.WrapAsALB {
		f.add(path+".albMultiValueHeaders", "needs wrapAsAlb")
	}
}
