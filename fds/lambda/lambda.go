// Package lambda discovers AWS Lambda functions: every function's $LATEST,
// published versions and aliases, each an invocable functions.Function,
// listed with the real aws-sdk-go-v2 Lambda client within bounds.
package lambda

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/gluon-gateway/gluon/functions"
)

// Config says which account and region to list and how.
type Config struct {
	Region string
	// Static credentials, used when Credentials is nil. SessionToken is
	// set for temporary credentials.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Credentials, when set, provides credentials instead (STS, a role...).
	Credentials aws.CredentialsProvider
	// RoleARN, when set, is assumed with the credentials above (STS
	// AssumeRole), and the listing done as the role. STSEndpoint overrides
	// https://sts.<region>.amazonaws.com.
	RoleARN, STSEndpoint string
	// Endpoint overrides Lambda's endpoint (the client's BaseEndpoint): a
	// stand-in, a VPC endpoint.
	Endpoint string
	// Timeout bounds one Discover call (default 60 s).
	Timeout time.Duration
	// RequestTimeout bounds each API call, retries included (default 10 s).
	RequestTimeout time.Duration
	// RetryMaxAttempts is the SDK's attempts per call; 0 keeps the SDK's
	// default (3). Discovery runs again later anyway.
	RetryMaxAttempts int
	// MaxFunctions bounds what one Discover returns (default 10,000).
	MaxFunctions int
	// Concurrency bounds parallel ListAliases calls (default 4).
	Concurrency int
}

// Discoverer lists the functions of one account in one region.
type Discoverer struct {
	client *awslambda.Client
	cfg    Config
}

// New builds the Lambda client. Nothing is read from the environment or
// shared config files: a Discoverer uses exactly the credentials given.
func New(cfg Config) (*Discoverer, error) {
	if cfg.Region == "" {
		return nil, errors.New("lambda discovery: no region")
	}
	creds := cfg.Credentials
	if creds == nil {
		if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
			return nil, errors.New("lambda discovery: no credentials")
		}
		creds = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
	}
	if cfg.RoleARN != "" {
		creds = assumeRole(creds, cfg)
	}
	cfg.Timeout = orDefault(cfg.Timeout, 60*time.Second)
	cfg.RequestTimeout = orDefault(cfg.RequestTimeout, 10*time.Second)
	cfg.MaxFunctions = orDefault(cfg.MaxFunctions, 10_000)
	cfg.Concurrency = orDefault(cfg.Concurrency, 4)
	client := awslambda.NewFromConfig(aws.Config{Region: cfg.Region, Credentials: creds}, func(o *awslambda.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		if cfg.RetryMaxAttempts > 0 {
			o.RetryMaxAttempts = cfg.RetryMaxAttempts
		}
	})
	return &Discoverer{client: client, cfg: cfg}, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Discover lists every version of every function, then each function's
// aliases, and returns one Function per $LATEST ("name"), published
// version ("name:1") and alias ("name:prod"), sorted by name. Errors keep
// the AWS error code visible to ErrorCode and IsTransient.
func (d *Discoverer) Discover(ctx context.Context) ([]functions.Function, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	versions, err := d.listVersions(ctx)
	if err != nil {
		return nil, err
	}
	aliases, err := d.listAllAliases(ctx, functionNames(versions), d.cfg.MaxFunctions-len(versions))
	if err != nil {
		return nil, err
	}
	return build(versions, aliases), nil
}

// ErrTooManyFunctions means the account has more functions (versions and
// aliases counted) than MaxFunctions: nothing is returned rather than an
// arbitrary subset.
var ErrTooManyFunctions = errors.New("too many Lambda functions")

// ErrEndlessListing means a listing did not end: a marker came back twice,
// or there were more pages than functions allowed.
var ErrEndlessListing = errors.New("Lambda listing does not end")
