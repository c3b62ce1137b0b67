// Package lambdawire is the wire contract of Gluon's AWS Lambda filter
// (golang plugin "gluon.aws_lambda"): its name, the type URLs of its
// configs and their JSON shapes. The translator writes these, the data
// plane and the Envoy plugin read them; it imports nothing but the
// standard library, so all three can share it.
package lambdawire

// PluginName is the golang filter plugin; Gluon names the HTTP filter
// after it too.
const PluginName = "gluon.aws_lambda"

// The type URLs of the TypedStructs that carry the configs.
const (
	ListenerType = "gluon.dev/aws_lambda.ListenerConfig"
	RouteType    = "gluon.dev/aws_lambda.RouteConfig"
)

// Credentials sign requests. They arrive in the listener config (never in
// route configs), and are redacted wherever config is shown.
type Credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken,omitempty"`
}

// ListenerConfig holds the credentials of every AWS upstream the
// listener's routes call, by upstream ("namespace/name").
type ListenerConfig struct {
	Credentials map[string]Credentials `json:"credentials,omitempty"`
}

// RouteConfig says which function a route invokes and how.
type RouteConfig struct {
	// Credentials names the upstream whose credentials sign the call; an
	// upstream without a secret uses the environment's AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
	Credentials  string `json:"credentials"`
	Region       string `json:"region"`
	Host         string `json:"host"`
	FunctionName string `json:"functionName"`
	Qualifier    string `json:"qualifier,omitempty"`
	// AccountID owns the function (from its ARN); API Gateway events
	// name it.
	AccountID string `json:"accountId,omitempty"`
	// InvocationStyle is "sync" (default) or "async".
	InvocationStyle string `json:"invocationStyle,omitempty"`
	// WrapAsAPIGateway wraps the request in an API Gateway proxy event:
	// "v1" (REST API payload 1.0) or "v2" (HTTP API payload 2.0).
	WrapAsAPIGateway string `json:"wrapAsApiGateway,omitempty"`
	// WrapAsALB wraps it in an ALB target group event, with multi-value
	// headers when ALBMultiValueHeaders.
	WrapAsALB            bool `json:"wrapAsAlb,omitempty"`
	ALBMultiValueHeaders bool `json:"albMultiValueHeaders,omitempty"`
	// UnwrapAsAPIGateway and UnwrapAsALB read the function's result as an
	// API Gateway / ALB proxy response.
	UnwrapAsAPIGateway bool `json:"unwrapAsApiGateway,omitempty"`
	UnwrapAsALB        bool `json:"unwrapAsAlb,omitempty"`
	// PassFunctionErrors answers a function's error (its type, message
	// and stack trace) to the client; by default the client gets a generic
	// 502 naming the request id, and the error goes to the log.
	PassFunctionErrors bool `json:"passFunctionErrors,omitempty"`
	// RoleARN, when set, is assumed (STS AssumeRole) with the upstream's
	// credentials, and calls are signed with the role's temporary ones.
	// STSEndpoint overrides https://sts.<region>.amazonaws.com.
	RoleARN     string `json:"roleArn,omitempty"`
	STSEndpoint string `json:"stsEndpoint,omitempty"`
}
