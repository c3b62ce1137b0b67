package lambda

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const (
	// retrieveTimeout bounds getting a request's credentials: an
	// AssumeRole call, with the SDK's retries, when the cached temporary
	// credentials are due for refresh; instant otherwise.
	retrieveTimeout = 5 * time.Second
	// refreshWindow is how long before expiry assumed-role credentials are
	// refreshed, so that no request is signed with credentials about to
	// expire in flight; at most a quarter of their lifetime (see
	// refreshEarly).
	refreshWindow = time.Minute
	// roleSessionName shows in the role's CloudTrail entries.
	roleSessionName = "gluon-gateway"
)

// roleKey is what an assumed role's credentials depend on: routes of a
// listener with the same key share one cache, hence one AssumeRole per
// lifetime, not one per route.
type roleKey struct {
	base                         Credentials
	roleARN, stsEndpoint, region string
}

// roles are a listener's assumed-role credential caches.
type roles struct {
	mu    sync.Mutex
	byKey map[roleKey]aws.CredentialsProvider
}

func (r *roles) provider(k roleKey) aws.CredentialsProvider {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.byKey[k]; ok {
		return p
	}
	p := assumeRole(k)
	r.byKey[k] = p
	return p
}

// assumeRole chains STS AssumeRole on the base credentials, cached until
// shortly before the temporary credentials expire. Nothing is read from
// the environment or shared config files beyond the base credentials.
func assumeRole(k roleKey) aws.CredentialsProvider {
	base := credentials.NewStaticCredentialsProvider(k.base.AccessKeyID, k.base.SecretAccessKey, k.base.SessionToken)
	client := sts.NewFromConfig(aws.Config{Region: k.region, Credentials: base}, func(o *sts.Options) {
		if k.stsEndpoint != "" {
			o.BaseEndpoint = aws.String(k.stsEndpoint)
		}
	})
	p := stscreds.NewAssumeRoleProvider(client, k.roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = roleSessionName
	})
	return aws.NewCredentialsCache(refreshEarly{p}, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = refreshWindow
	})
}

// refreshEarly caps the cache's expiry window at a quarter of the
// credentials' remaining lifetime: with a lifetime shorter than the window
// (possible with a role's minimum session, and in tests) the cache would
// otherwise consider fresh credentials expired and assume the role again
// on every request.
type refreshEarly struct{ aws.CredentialsProvider }

// AdjustExpiresBy implements aws.AdjustExpiresByCredentialsCacheStrategy;
// by is negative.
func (refreshEarly) AdjustExpiresBy(c aws.Credentials, by time.Duration) (aws.Credentials, error) {
	if quarter := -time.Until(c.Expires) / 4; by < quarter {
		by = quarter
	}
	c.Expires = c.Expires.Add(by)
	return c, nil
}

// credentials gets the route's signing credentials within retrieveTimeout.
// A failure names the role and, when STS answered, only its error (code
// and message: AccessDenied, InvalidClientTokenId...), which is what an
// operator acts on, without the SDK's layers around it.
func (r *Route) credentials() (aws.Credentials, error) {
	ctx, cancel := context.WithTimeout(context.Background(), retrieveTimeout)
	defer cancel()
	c, err := r.creds.Retrieve(ctx)
	if err == nil {
		return c, nil
	}
	if r.cfg.RoleARN == "" {
		return aws.Credentials{}, err
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return aws.Credentials{}, fmt.Errorf("assuming role %s: %w", r.cfg.RoleARN, apiErr)
	}
	return aws.Credentials{}, fmt.Errorf("assuming role %s: %w", r.cfg.RoleARN, err)
}
