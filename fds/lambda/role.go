package lambda

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// roleSessionName shows in the role's CloudTrail entries.
const roleSessionName = "gluon-discovery"

// assumeRole chains STS AssumeRole on the base credentials. The cache
// assumes the role once per lifetime, not once per API call, and a minute
// early, so that a listing never runs into the expiry; a lifetime shorter
// than that is assumed again on each call, which only costs a call.
func assumeRole(base aws.CredentialsProvider, cfg Config) aws.CredentialsProvider {
	client := sts.NewFromConfig(aws.Config{Region: cfg.Region, Credentials: base}, func(o *sts.Options) {
		if cfg.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(cfg.STSEndpoint)
		}
		if cfg.RetryMaxAttempts > 0 {
			o.RetryMaxAttempts = cfg.RetryMaxAttempts
		}
	})
	p := stscreds.NewAssumeRoleProvider(client, cfg.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = roleSessionName
	})
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = time.Minute })
}
